import { useEffect, useState } from 'preact/hooks';
import { useApi, useTitle } from '../hooks.ts';
import { ErrorBox, Loading, Section } from '../components.tsx';
import { parsePrometheus, sumOf, type Sample } from '../lib/prom.ts';
import { formatTime } from '../lib/time.ts';

interface Health {
  status: string;
  generated_at: string;
  workflows: { active: number; active_by_type: Record<string, number>; failed_last_hour: number; timed_out_last_hour: number };
  errors: { unresolved: number };
  ingest: { spans_last_5m: number; spans_per_second: number; errors_last_5m: number };
  alerts: { firing: number; firing_warning: number; firing_critical: number; rules_enabled: number };
}

interface Probe {
  ok: boolean;
  body: string;
}

async function probe(path: string): Promise<Probe> {
  try {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    return { ok: res.ok, body: await res.text() };
  } catch (err) {
    return { ok: false, body: String(err) };
  }
}

/** Health and readiness of this flowscope process, what its storage says, and its metrics. */
export function System() {
  useTitle('System');
  const health = useApi<Health>('health');
  const [probes, setProbes] = useState<{ health: Probe; ready: Probe; metrics: Sample[] } | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    void (async () => {
      const [h, r, m] = await Promise.all([probe('/health'), probe('/ready'), probe('/metrics')]);
      if (live) setProbes({ health: h, ready: r, metrics: m.ok ? parsePrometheus(m.body) : [] });
    })();
    const t = setInterval(() => setTick((x) => x + 1), 10_000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [tick]);
  const m = probes?.metrics ?? [];
  const queue = m.filter((s) => s.name === 'flowscope_alerting_queue_jobs');
  const counter = (name: string, match: Record<string, string> = {}) => {
    const v = sumOf(m, name, match);
    return v === undefined ? 'not served by this process' : v.toLocaleString('en-US');
  };
  const h = health.data;
  return (
    <main id="main">
      <div class="page-head"><h1>System</h1>{h && <span class={`badge ${h.status === 'ok' ? 'status-completed' : 'status-failed'}`}>{h.status}</span>}</div>
      <Section title="This process">
        {!probes ? <Loading what="probes" /> : (
          <dl class="summary" aria-label="Probes">
            <div><dt>Liveness (/health)</dt><dd>{probes.health.ok ? 'healthy' : `unhealthy: ${probes.health.body.slice(0, 200)}`}</dd></div>
            <div><dt>Readiness (/ready: database{probes.ready.body.includes('redis') ? ', Redis' : ''})</dt><dd>{probes.ready.ok ? 'ready' : `not ready: ${probes.ready.body.slice(0, 200)}`}</dd></div>
            <div><dt>Storage up</dt><dd>{counter('flowscope_storage_up')}</dd></div>
            <div><dt>Live stream clients</dt><dd>{counter('flowscope_query_ws_clients')}</dd></div>
          </dl>
        )}
      </Section>
      {health.error !== undefined && <ErrorBox error={health.error} retry={health.reload} />}
      {h && (
        <Section title="Workflows, errors and ingest (from storage)">
          <dl class="summary" aria-label="Storage">
            <div><dt>Active workflows</dt><dd>{h.workflows.active}</dd></div>
            <div><dt>Failed in the last hour</dt><dd>{h.workflows.failed_last_hour}</dd></div>
            <div><dt>Timed out in the last hour</dt><dd>{h.workflows.timed_out_last_hour}</dd></div>
            <div><dt>Unresolved errors</dt><dd>{h.errors.unresolved}</dd></div>
            <div><dt>Spans in the last 5 min</dt><dd>{h.ingest.spans_last_5m.toLocaleString('en-US')} ({h.ingest.spans_per_second.toFixed(1)}/s)</dd></div>
            <div><dt>Error spans in the last 5 min</dt><dd>{h.ingest.errors_last_5m}</dd></div>
            <div><dt>Firing alerts</dt><dd>{h.alerts.firing} ({h.alerts.firing_critical} critical, {h.alerts.firing_warning} warning)</dd></div>
            <div><dt>Enabled rules</dt><dd>{h.alerts.rules_enabled}</dd></div>
            <div><dt>As of (UTC)</dt><dd>{formatTime(h.generated_at)}</dd></div>
          </dl>
        </Section>
      )}
      <Section title="Collector and queues (from this process's /metrics)">
        <dl class="summary" aria-label="Metrics">
          <div><dt>Spans received</dt><dd>{counter('flowscope_spans_received_total')}</dd></div>
          <div><dt>Spans stored</dt><dd>{counter('flowscope_spans_stored_total')}</dd></div>
          <div><dt>Spans sampled out</dt><dd>{counter('flowscope_spans_sampled_out_total')}</dd></div>
          <div><dt>Writer queue (spans)</dt><dd>{counter('flowscope_writer_queue_spans')}</dd></div>
          {queue.length === 0 ? (
            <div><dt>Alerting queues</dt><dd>not served by this process</dd></div>
          ) : (
            queue.map((s) => <div key={JSON.stringify(s.labels)}><dt>Queue {Object.values(s.labels).join(' ')}</dt><dd>{s.value}</dd></div>)
          )}
        </dl>
        <p class="muted">The collector serves its own /metrics on its port (4318 by default); Prometheus and the Grafana dashboards read every process.</p>
      </Section>
    </main>
  );
}
