/**
 * Every panel's query, executed for real. The collector, the query API and the alerting worker
 * run (as in-process apps on their own ports) on PostgreSQL and Redis; demo traffic goes in
 * through the OpenTelemetry SDK; a real Prometheus (Debian's `prometheus` package) scrapes the
 * three. Then each target of each generated dashboard runs as Grafana would send it — PromQL
 * against Prometheus, JSON API and Jaeger queries against the query API with a viewer token —
 * and must return data of the shape its panel draws, never nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { JSONPath } from 'jsonpath-plus';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { alertingConfigShape, startAlerting, type AlertingHandle } from '@flowscope/alerting';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { loggingConfigShape, parseConfig, registerOpsRoutes } from '@flowscope/common';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { openDatabase, storageConfigShape, type Database } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { dashboards } from '../src/index.ts';
import { freePort } from '@flowscope/common/testing';

const REDIS_URL = process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVICE = 'shop-api';
const RULE = 'api_response_time_p95';

interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  expr?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  urlPath?: string;
  params?: [string, string][];
  fields?: { jsonPath: string; name: string; type?: string }[];
  queryType?: string;
  service?: string;
  operation?: string;
  tags?: string;
  minDuration?: string;
  limit?: number;
  query?: string;
}
interface PanelJson {
  id: number;
  type: string;
  title: string;
  repeat?: string;
  targets?: Target[];
}
interface VariableJson {
  type: string;
  name: string;
  includeAll?: boolean;
  allValue?: string;
  query?: string | { query?: string; urlPath?: string; fields?: { jsonPath: string }[] };
  datasource?: { type: string };
}
interface DashboardJson {
  title: string;
  panels: PanelJson[];
  templating?: { list: VariableJson[] };
}

const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Values Grafana would put in the dashboards' variables for this traffic. */
function variableValues(d: DashboardJson, traceId: string): Record<string, string> {
  const chosen: Record<string, string> = {
    workflow_type: 'checkout',
    component: SERVICE,
    rule: RULE,
    service: SERVICE,
    tags: 'workflow.type=checkout',
    trace_id: traceId,
    flowscope_url: 'http://localhost:8000',
  };
  const values: Record<string, string> = {};
  for (const v of d.templating?.list ?? []) {
    // A repeated panel gets one value per copy; the rest take "All" where they offer it.
    const repeated = d.panels.some((p) => p.repeat === v.name);
    values[v.name] = !repeated && v.includeAll ? (v.allValue ?? '') : (chosen[v.name] ?? '');
  }
  return values;
}

function interpolate(text: string, vars: Record<string, string>, range: { from: Date; to: Date }): string {
  return text
    .replaceAll('${__from:date:iso}', range.from.toISOString())
    .replaceAll('${__to:date:iso}', range.to.toISOString())
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m);
}

/** logfmt (`a=b c="d e"`) as the JSON object Grafana's Jaeger data source sends as `tags`. */
function logfmtToJson(text: string): string {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([^\s=]+)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return JSON.stringify(out);
}

describe('every panel query returns data of its shape', () => {
  let database: TestDatabase;
  let db: Database;
  let redis: Redis;
  let collector: Collector;
  let queryApi: FastifyInstance;
  let alerting: AlertingHandle;
  let workerApp: FastifyInstance;
  let smtp: SMTPServer;
  let prometheus: ChildProcess;
  let promLog = '';
  let promDir: string;
  let promUrl: string;
  let apiUrl: string;
  let viewer: string;
  let failedTraceId = '';
  const received: string[] = [];
  let window: { from: Date; to: Date };

  beforeAll(async () => {
    const prefix = `fs-panels-${randomBytes(4).toString('hex')}`;
    database = await createTestDatabase('fs_panels');
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString()));
        stream.on('end', () => {
          received.push(body);
          cb();
        });
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));

    const shape = { ...loggingConfigShape, ...storageConfigShape, ...alertingConfigShape, ...queryApiConfigShape, ...collectorConfigShape };
    const config = parseConfig(shape, {
      DATABASE_URL: database.url,
      REDIS_URL,
      FLOWSCOPE_REDIS_PREFIX: `${prefix}:`,
      FLOWSCOPE_QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      // Ordinary traces: half kept; held briefly so that some are sampled out.
      DEBUGGING_TRACE_SAMPLING_RATE: '0.5',
      FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '300',
      // Thresholds the demo's slow checkouts cross, evaluated every second.
      DEBUGGING_API_RESPONSE_TIME_WARNING: '100',
      DEBUGGING_API_RESPONSE_TIME_CRITICAL: '200',
      FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '1',
      FLOWSCOPE_ALERT_MIN_SAMPLES: '1',
      FLOWSCOPE_ALERT_WINDOW_SECONDS: '60',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(smtpPort),
      EMAIL_USE_TLS: 'false',
      FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
    });
    const logger = pino({ level: 'silent' });
    db = await openDatabase(config);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });

    collector = buildCollector({ db, config, logger });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    queryApi = await buildQueryApi({ db, config, logger, redis });
    await queryApi.listen({ host: '127.0.0.1', port: 0 });
    alerting = await startAlerting({ db, config, logger });
    workerApp = Fastify({ logger: false });
    registerOpsRoutes(workerApp, { registry: alerting.registry, checks: alerting.checks });
    await workerApp.listen({ host: '127.0.0.1', port: 0 });
    apiUrl = `http://127.0.0.1:${portOf(queryApi)}`;
    viewer = (await createToken(db, { name: 'grafana', role: 'viewer' })).token;

    // Prometheus scraping the three processes every second, under the jobs of prometheus.yml.
    promDir = mkdtempSync(join(tmpdir(), 'flowscope-prometheus-'));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const job = (name: string, port: number) => `  - job_name: ${name}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${job('flowscope-collector', portOf(collector.app))}${job('flowscope-query-api', portOf(queryApi))}${job('flowscope-alerting', portOf(workerApp))}`,
    );
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.on('error', (err) => (promLog += `cannot start prometheus (apt-get install prometheus; .ci/run does it): ${err.message}\n`));
    prometheus.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    await until('prometheus ready', async () => {
      if (prometheus.exitCode !== null || promLog.includes('cannot start')) throw new Error(`prometheus exited:\n${promLog}`);
      return (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined;
    });
    // Service discovery hands targets to the scrape loop after a few seconds: wait for all three.
    await until('first scrapes of the three processes', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up == 1')}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length === 3 ? true : undefined;
    });

    // Demo traffic through the OpenTelemetry SDK, in two bursts a few scrapes apart.
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${portOf(collector.app)}/v1/traces` }))],
    });
    const tracer = provider.getTracer('panels-test');
    const openRoots: Span[] = [];
    const burst = (n: number) => {
      const now = Date.now();
      const at = (ms: number) => new Date(now - 1000 + ms);
      for (let i = 0; i < 8; i++) {
        // checkout: slow (over the api thresholds), every third one fails in the database.
        const wf = { 'workflow.type': 'checkout', 'workflow.id': `order-${n}-${i}` };
        const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/checkout' } });
        const ctx = trace.setSpan(context.active(), root);
        const query = tracer.startSpan('INSERT orders', { kind: SpanKind.CLIENT, startTime: at(10), attributes: { ...wf, 'db.system': 'postgresql' } }, ctx);
        if (i % 3 === 0) {
          query.recordException(new Error('deadlock detected'));
          query.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
        }
        query.end(at(40 + i));
        const pay = tracer.startSpan('POST payments', { kind: SpanKind.CLIENT, startTime: at(50), attributes: { ...wf, 'http.request.method': 'POST', 'server.address': 'payments' } }, ctx);
        pay.end(at(200 + 10 * i));
        if (i % 3 === 0) root.setStatus({ code: SpanStatusCode.ERROR, message: 'order failed' });
        root.end(at(250 + 10 * i));
        if (i % 3 === 0) failedTraceId = root.spanContext().traceId;
        // login: fast and ordinary (sampled at 0.5).
        const lwf = { 'workflow.type': 'login', 'workflow.id': `login-${n}-${i}` };
        const login = tracer.startSpan('POST /login', { kind: SpanKind.SERVER, startTime: at(0), attributes: { ...lwf, 'http.request.method': 'POST', 'http.route': '/login' } });
        const lookup = tracer.startSpan('SELECT users', { kind: SpanKind.CLIENT, startTime: at(2), attributes: { ...lwf, 'db.system': 'postgresql' } }, trace.setSpan(context.active(), login));
        lookup.end(at(6));
        login.end(at(15));
      }
      // Checkouts still running: a child span is in, the root has not ended.
      for (let i = 0; i < 2; i++) {
        const wf = { 'workflow.type': 'checkout', 'workflow.id': `open-${n}-${i}` };
        const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/checkout' } });
        openRoots.push(root);
        tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: at(5), attributes: { ...wf, 'db.system': 'postgresql' } }, trace.setSpan(context.active(), root)).end(at(9));
      }
    };
    burst(1);
    await provider.forceFlush();
    await sleep(3000);
    burst(2);
    await provider.forceFlush();
    await provider.shutdown();
    // An invalid span (8-byte trace id) is refused as partial success.
    const invalid = await fetch(`http://127.0.0.1:${portOf(collector.app)}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] }, scopeSpans: [{ spans: [{ traceId: '0102030405060708', spanId: '0102030405060708', name: 'bad', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
      }),
    });
    expect(invalid.status).toBe(200);
    expect(JSON.stringify(await invalid.json())).toContain('rejectedSpans');

    const api = (path: string) => fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.json() as Promise<{ data: unknown[] }>);
    await until('a firing alert', async () => ((await api('/api/v1/debugging/alerts?state=firing')).data.length > 0 ? true : undefined));
    await until('an alert email delivered', async () => (received.length > 0 ? true : undefined));
    await until('spans sampled out', async () => ((await (await fetch(`http://127.0.0.1:${portOf(collector.app)}/metrics`)).text()).includes('flowscope_spans_sampled_out_total{') ? true : undefined));
    // A few more scrapes, so that every rate has two samples that differ.
    await sleep(3000);
    window = { from: new Date(Date.now() - 5 * 60_000), to: new Date() };
    expect(openRoots.length).toBe(4);
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus.once('exit', r));
    }
    if (promDir) rmSync(promDir, { recursive: true, force: true });
    await alerting?.close();
    await workerApp?.close();
    await queryApi?.close();
    await collector?.close();
    redis?.disconnect();
    await db?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await database?.drop();
  });

  async function promQuery(expr: string, instant: boolean): Promise<{ resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] }> {
    const params = new URLSearchParams({ query: expr });
    if (instant) params.set('time', String(window.to.getTime() / 1000));
    else {
      params.set('start', String(Math.floor(Date.now() / 1000) - 120));
      params.set('end', String(Math.ceil(Date.now() / 1000)));
      params.set('step', '1');
    }
    const res = await fetch(`${promUrl}/api/v1/${instant ? 'query' : 'query_range'}`, { method: 'POST', body: params });
    const body = (await res.json()) as { status: string; error?: string; data: never };
    expect(body.status, `${expr}: ${body.error ?? ''}`).toBe('success');
    return body.data;
  }

  async function runPrometheus(panel: PanelJson, target: Target, vars: Record<string, string>): Promise<void> {
    const expr = interpolate(target.expr!, vars, window);
    const instant = target.instant === true;
    const data = await promQuery(expr, instant);
    const label = `${panel.title} [${target.refId}] ${expr}`;
    expect(data.resultType, label).toBe(instant ? 'vector' : 'matrix');
    expect(data.result.length, `${label} returned no series`).toBeGreaterThan(0);
    const numbers = data.result.flatMap((s) => (instant ? [s.value![1]] : s.values!.map((v) => v[1]))).map(Number);
    expect(numbers.some((n) => Number.isFinite(n)), `${label} has no finite value: ${JSON.stringify(data.result).slice(0, 600)}`).toBe(true);
  }

  async function runJsonApi(panel: PanelJson, target: Target, vars: Record<string, string>): Promise<void> {
    const url = new URL(interpolate(target.urlPath!, vars, window), apiUrl);
    for (const [k, v] of target.params ?? []) url.searchParams.append(k, interpolate(v, vars, window));
    const res = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
    const body: unknown = await res.json();
    const label = `${panel.title} [${target.refId}] ${url.pathname}${url.search}`;
    expect(res.status, `${label}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
    const columns = target.fields!.map((f) => ({ ...f, values: JSONPath({ path: f.jsonPath, json: body as object, wrap: true }) as unknown[] }));
    const rows = columns[0]!.values.length;
    expect(rows, `${label} returned no rows`).toBeGreaterThan(0);
    for (const c of columns) {
      expect(c.values.length, `${label}: ${c.name} (${c.jsonPath})`).toBe(rows);
      const present = c.values.filter((v) => v !== null && v !== undefined);
      if (c.type === 'number') expect(present.every((v) => typeof v === 'number'), `${label}: ${c.name} numbers`).toBe(true);
      if (c.type === 'time') expect(present.every((v) => typeof v === 'string' && !Number.isNaN(Date.parse(v))), `${label}: ${c.name} times`).toBe(true);
    }
    // The column every row has (ids, names, times) is never all empty.
    expect(columns.some((c) => c.values.every((v) => v !== null && v !== undefined && v !== '')), `${label}: a complete column`).toBe(true);
    if (panel.type === 'timeseries') {
      expect(target.fields!.some((f) => f.type === 'time'), `${label}: a time field`).toBe(true);
      expect(columns.some((c) => c.type === 'number' && c.values.some((v) => typeof v === 'number')), `${label}: a number`).toBe(true);
    }
  }

  async function runJaeger(panel: PanelJson, target: Target, vars: Record<string, string>): Promise<void> {
    let url: URL;
    if (target.queryType === 'search') {
      url = new URL('/jaeger/api/traces', apiUrl);
      url.searchParams.set('service', interpolate(target.service ?? '', vars, window));
      const operation = interpolate(target.operation ?? '', vars, window);
      if (operation) url.searchParams.set('operation', operation);
      const tags = interpolate(target.tags ?? '', vars, window);
      if (tags) url.searchParams.set('tags', logfmtToJson(tags));
      const minDuration = interpolate(target.minDuration ?? '', vars, window);
      if (minDuration) url.searchParams.set('minDuration', minDuration);
      url.searchParams.set('start', String(window.from.getTime() * 1000));
      url.searchParams.set('end', String(window.to.getTime() * 1000));
      url.searchParams.set('limit', String(target.limit ?? 20));
    } else {
      url = new URL(`/jaeger/api/traces/${interpolate(target.query ?? '', vars, window)}`, apiUrl);
    }
    const res = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
    const body = (await res.json()) as { data: { traceID: string; spans: unknown[] }[] };
    const label = `${panel.title} [${target.refId}] ${url.pathname}${url.search}`;
    expect(res.status, label).toBe(200);
    expect(body.data.length, `${label} found no trace`).toBeGreaterThan(0);
    for (const t of body.data) expect(t.spans.length, label).toBeGreaterThan(0);
  }

  const all = Object.entries(dashboards() as Record<string, DashboardJson>);

  it.each(all)('%s: every panel', async (_file, d) => {
    const vars = variableValues(d, failedTraceId);
    const panels = d.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        const type = target.datasource.type;
        if (type === 'prometheus') await runPrometheus(panel, target, vars);
        else if (type === 'marcusolsson-json-datasource') await runJsonApi(panel, target, vars);
        else if (type === 'jaeger') await runJaeger(panel, target, vars);
        else throw new Error(`${panel.title}: no runner for data source ${type}`);
      }
    }
  });

  it.each(all)('%s: every query variable has values', async (_file, d) => {
    const vars = variableValues(d, failedTraceId);
    for (const v of (d.templating?.list ?? []).filter((x) => x.type === 'query')) {
      let values: unknown[];
      if (v.datasource?.type === 'prometheus') {
        const m = /^label_values\((.*), (\w+)\)$/.exec(String(v.query && typeof v.query === 'object' ? v.query.query : v.query));
        expect(m, v.name).not.toBeNull();
        const params = new URLSearchParams({ 'match[]': interpolate(m![1]!, vars, window), start: String(window.from.getTime() / 1000), end: String(Date.now() / 1000) });
        const body = (await (await fetch(`${promUrl}/api/v1/label/${m![2]}/values?${params}`)).json()) as { data: string[] };
        values = body.data;
      } else {
        const q = v.query as { urlPath: string; fields: { jsonPath: string }[] };
        const res = await fetch(new URL(interpolate(q.urlPath, vars, window), apiUrl), { headers: { authorization: `Bearer ${viewer}` } });
        expect(res.status, v.name).toBe(200);
        values = JSONPath({ path: q.fields[0]!.jsonPath, json: (await res.json()) as object, wrap: true }) as unknown[];
      }
      expect(values.length, `${d.title}: variable ${v.name}`).toBeGreaterThan(0);
      if (vars[v.name] && !v.includeAll) expect(values, `${d.title}: variable ${v.name}`).toContain(vars[v.name]);
    }
  });
});
