import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATASOURCES, METRICS, dashboards, knownSeriesNames, renderDashboards, seriesNamesIn } from '../src/index.ts';

const GRAFANA = join(import.meta.dirname, '..');
const DASHBOARDS_DIR = join(GRAFANA, 'dashboards');

interface Target {
  refId?: string;
  datasource?: { type?: string; uid?: string };
  expr?: string;
  queryType?: string;
  service?: string;
  query?: string;
  urlPath?: string;
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  gridPos?: { x: number; y: number; w: number; h: number };
  fieldConfig?: { overrides?: unknown[] };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: { name: string }[] };
  tags?: string[];
  links?: unknown[];
}

const generated = dashboards() as Record<string, Dashboard>;
const all = Object.entries(generated);
const panelsOf = (d: Dashboard): Panel[] => d.panels.filter((p) => p.type !== 'row');

describe('generated dashboards', () => {
  it('the committed JSON is exactly what grafana/src generates (run: npx pnpm@10.34.8 dashboards)', () => {
    const expected = renderDashboards();
    const committed = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) {
      expect(readFileSync(join(DASHBOARDS_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('has the six dashboards with stable uids and titles, each linking to the others', () => {
    expect(all.map(([file, d]) => [file, d.uid, d.title])).toEqual([
      ['flowscope-overview.json', 'flowscope-overview', 'flowscope overview'],
      ['workflow-drilldown.json', 'flowscope-workflow-drilldown', 'workflow drill-down'],
      ['workflow-traces.json', 'flowscope-workflow-traces', 'workflow traces'],
      ['flowscope-errors.json', 'flowscope-errors', 'flowscope errors'],
      ['thresholds-alerts.json', 'flowscope-alerts', 'thresholds and alerts'],
      ['flowscope-health.json', 'flowscope-health', 'flowscope health'],
    ]);
    for (const [file, d] of all) {
      expect(d.tags, file).toContain('flowscope');
      expect(d.links, file).toEqual([expect.objectContaining({ type: 'dashboards', tags: ['flowscope'] })]);
    }
  });

  it("the overview keeps the replaced system's three panels and metric names", () => {
    const panels = panelsOf(generated['flowscope-overview.json']!);
    const byTitle = (title: string) => panels.find((p) => p.title === title)?.targets?.[0]?.expr ?? '';
    expect(byTitle('Active Workflows')).toContain('debugging_active_workflows_total');
    expect(byTitle('Error Rate')).toContain('rate(debugging_errors_total{');
    expect(byTitle('Error Rate')).toContain('[5m])');
    expect(byTitle('Response Time')).toContain('debugging_response_time_seconds_bucket');
  });

  it('the drill-down has the workflow type, layer, component and operation variables, thresholds, and linked run tables', () => {
    const d = generated['workflow-drilldown.json']!;
    expect(d.templating?.list.map((v) => v.name)).toEqual(['workflow_type', 'layer', 'component', 'operation', 'flowscope_url']);
    const panels = panelsOf(d);
    const latency = panels.find((p) => p.title === 'Latency percentiles vs thresholds')!;
    expect(latency.targets!.map((t) => t.expr)).toEqual([
      expect.stringContaining('histogram_quantile(0.5,'),
      expect.stringContaining('histogram_quantile(0.95,'),
      expect.stringContaining('histogram_quantile(0.99,'),
      expect.stringContaining('flowscope_alert_rule_threshold{metric="duration_ms:p95"'),
    ]);
    for (const title of ['Slowest workflows', 'Failed workflows']) {
      const table = panels.find((p) => p.title === title)!;
      expect(table.targets![0]!.urlPath).toBe('/api/v1/debugging/workflows');
      const links = JSON.stringify(table.fieldConfig?.overrides ?? []);
      expect(links).toContain('${flowscope_url}/workflows/${__value.raw}');
      expect(links).toContain('/d/flowscope-workflow-traces/workflow-traces?var-trace_id=${__value.raw}');
    }
  });

  it.each(all)('%s: panel ids are distinct, panels do not overlap and fit the 24-column grid', (_file, d) => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => typeof id === 'number' && id > 0)).toBe(true);
    const cells = new Set<string>();
    for (const { gridPos, title } of d.panels) {
      expect(gridPos, title).toBeDefined();
      const { x, y, w, h } = gridPos!;
      expect(x + w, title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          expect(cells.has(cell), `${title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it.each(all)('%s: every panel and query uses a provisioned data source and has a query', (_file, d) => {
    const provisioned = (parse(readFileSync(join(GRAFANA, 'provisioning/datasources/flowscope.yaml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    }).datasources.map((ds) => `${ds.type}/${ds.uid}`);
    expect(provisioned.sort()).toEqual(DATASOURCES.map((ds) => `${ds.type}/${ds.uid}`).sort());
    for (const panel of panelsOf(d)) {
      expect(provisioned, panel.title).toContain(`${panel.datasource?.type}/${panel.datasource?.uid}`);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets!) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
      }
    }
  });

  it('every Prometheus query uses only known metric names, and every listed metric is on the overview', () => {
    const known = knownSeriesNames();
    const used = new Set<string>();
    for (const [, d] of all) {
      for (const panel of panelsOf(d)) {
        for (const target of panel.targets ?? []) {
          if (target.datasource?.type !== 'prometheus') continue;
          const names = seriesNamesIn(target.expr ?? '');
          expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
          for (const name of names) {
            expect(known.has(name), `${panel.title} uses unknown metric ${name}`).toBe(true);
            used.add(name.replace(/_(bucket|count|sum)$/, ''));
          }
        }
      }
    }
    for (const metric of Object.values(METRICS)) expect(used, metric).toContain(metric);
  });

  it('filters span metrics by the workflow_type and layer variables', () => {
    const overview = generated['flowscope-overview.json']!;
    expect(overview.templating?.list.map((v) => v.name)).toEqual(['workflow_type', 'layer']);
    const spanMetricExprs = panelsOf(overview)
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr ?? '')
      .filter((e) => /debugging_(response_time|errors)/.test(e));
    expect(spanMetricExprs.length).toBeGreaterThan(5);
    for (const expr of spanMetricExprs) expect(expr).toContain('workflow_type=~"$workflow_type", layer=~"$layer"');
  });

  it('the traces dashboard searches Jaeger, draws a trace, and lists failed workflows and errors from the API', () => {
    const panels = panelsOf(generated['workflow-traces.json']!);
    expect(panels.map((p) => [p.type, p.datasource?.uid, p.targets?.[0]?.queryType ?? null])).toEqual([
      ['table', 'flowscope-jaeger', 'search'],
      ['traces', 'flowscope-jaeger', null],
      ['table', 'flowscope-api', null],
      ['table', 'flowscope-api', null],
    ]);
    expect(panels[0]!.targets![0]!.service).toBe('$service');
    expect(panels[1]!.targets![0]!.query).toBe('$trace_id');
    expect(panels[2]!.targets![0]!.urlPath).toBe('/api/v1/debugging/workflows');
    expect(panels[3]!.targets![0]!.urlPath).toBe('/api/v1/debugging/errors');
  });
});

describe('metric name extraction', () => {
  it.each([
    { expr: 'sum(rate(debugging_errors_total{layer="api"}[5m]))', names: ['debugging_errors_total'] },
    {
      expr: 'histogram_quantile(0.99, sum by (le) (rate(flowscope_write_duration_seconds_bucket[5m])))',
      names: ['flowscope_write_duration_seconds_bucket'],
    },
    { expr: 'up{job="flowscope-collector"} == 0', names: ['up'] },
    { expr: 'sum by (workflow_type) (x{name="debugging_not_a_metric"})', names: [] },
    { expr: 'a / on(workflow_type) debugging_bogus_total', names: ['debugging_bogus_total'] },
  ])('$expr', ({ expr, names }) => {
    expect(seriesNamesIn(expr)).toEqual(names);
  });
});

describe('provisioning', () => {
  const ROOT = join(GRAFANA, '..');
  const datasourcesYaml = readFileSync(join(GRAFANA, 'provisioning/datasources/flowscope.yaml'), 'utf8');
  const compose = parse(readFileSync(join(ROOT, 'deploy/docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: { grafana: { image: string; environment: Record<string, string> } };
  };

  it('data source URLs and the token come from environment variables Grafana expands, all set with defaults by compose', () => {
    const sources = (parse(datasourcesYaml) as { datasources: { uid: string; url: string; secureJsonData?: Record<string, string> }[] }).datasources;
    expect(Object.fromEntries(sources.map((s) => [s.uid, s.url]))).toEqual({
      'flowscope-prometheus': '${FLOWSCOPE_PROMETHEUS_URL}',
      'flowscope-jaeger': '${FLOWSCOPE_QUERY_API_URL}/jaeger',
      'flowscope-api': '${FLOWSCOPE_QUERY_API_URL}',
    });
    for (const s of sources.filter((x) => x.uid !== 'flowscope-prometheus')) {
      expect(s.secureJsonData?.httpHeaderValue1).toBe('Bearer ${FLOWSCOPE_GRAFANA_TOKEN}');
    }
    const referenced = [...new Set([...datasourcesYaml.replace(/^\s*#.*$/gm, '').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!))].sort();
    expect(referenced).toEqual(['FLOWSCOPE_GRAFANA_TOKEN', 'FLOWSCOPE_PROMETHEUS_URL', 'FLOWSCOPE_QUERY_API_URL']);
    const env = compose.services.grafana.environment;
    expect(env.FLOWSCOPE_QUERY_API_URL).toBe('${FLOWSCOPE_QUERY_API_URL:-http://query-api:8000}');
    expect(env.FLOWSCOPE_PROMETHEUS_URL).toBe('${FLOWSCOPE_PROMETHEUS_URL:-http://prometheus:9090}');
    expect(env).toHaveProperty('FLOWSCOPE_GRAFANA_TOKEN');
    const readme = readFileSync(join(GRAFANA, 'README.md'), 'utf8');
    for (const name of referenced) expect(readme, name).toContain(name);
  });

  it('compose runs the Grafana version whose published schema the dashboards are checked against', () => {
    const schemaVersion = (JSON.parse(readFileSync(join(GRAFANA, 'node_modules/@grafana/schema/package.json'), 'utf8')) as { version: string }).version;
    expect(compose.services.grafana.image).toBe(`grafana/grafana:${schemaVersion}`);
  });
});
