import { useEffect } from 'preact/hooks';
import { useApi, useTitle } from '../hooks.ts';
import { ErrorBox, Loading, Section } from '../components.tsx';
import { sumOf } from '../lib/metrics.ts';
import { formatTime } from '../lib/time.ts';
import type { Check, ComponentState, Health, SystemAnswer } from '../lib/types.ts';

const TITLES: Record<ComponentState['name'], string> = { 'query-api': 'Query API', collector: 'Collector', alerting: 'Alerting worker' };
const URL_KEYS: Record<ComponentState['name'], string> = { 'query-api': '', collector: 'FLOWSCOPE_COLLECTOR_URL', alerting: 'FLOWSCOPE_ALERTING_URL' };

const n = (v: number | undefined) => (v === undefined ? '—' : v.toLocaleString('en-US'));

/** What a component's metrics say, as label → value rows (only the ones it serves). */
function figures(c: ComponentState): [string, string][] {
  const s = c.samples;
  const has = (name: string) => s.some((x) => x.name === name);
  const rows: [string, string][] = [];
  const add = (label: string, name: string, match: Record<string, string> = {}) => {
    if (has(name)) rows.push([label, n(sumOf(s, name, match))]);
  };
  // a labelled counter has no sample until it first counts: shown as 0 when the process serves metrics
  const byLabel = (label: string, name: string, key: string) => {
    if (!has(name)) {
      if (s.length > 0) rows.push([label, '0']);
      return;
    }
    const parts = s.filter((x) => x.name === name && x.value > 0).map((x) => `${x.labels[key] ?? '?'} ${n(x.value)}`);
    rows.push([label, `${n(sumOf(s, name))}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`]);
  };
  if (c.name === 'collector') {
    add('Spans received', 'flowscope_spans_received_total');
    add('Spans accepted', 'flowscope_spans_accepted_total');
    add('Spans stored', 'flowscope_spans_stored_total');
    byLabel('Spans sampled out', 'flowscope_spans_sampled_out_total', 'why');
    add('Spans rescued (kept after a later error)', 'flowscope_spans_rescued_total');
    add('Duplicates skipped', 'flowscope_spans_duplicate_total');
    byLabel('Spans refused', 'flowscope_spans_refused_total', 'reason');
    byLabel('Export requests', 'flowscope_export_requests_total', 'code');
    add('Writer queue (spans)', 'flowscope_writer_queue_spans');
    add('Spans held for the sampling decision', 'flowscope_spans_held');
    if (has('flowscope_storage_up')) rows.push(['Storage', sumOf(s, 'flowscope_storage_up') === 1 ? 'reachable' : 'unavailable']);
  } else if (c.name === 'query-api') {
    add('Live stream clients', 'flowscope_query_ws_clients');
    add('Requests refused by the rate limit', 'flowscope_query_rate_limited_total');
    byLabel('Requests refused by authentication', 'flowscope_query_auth_failures_total', 'reason');
    add('Unresolved errors', 'flowscope_errors_unresolved');
  } else {
    for (const q of s.filter((x) => x.name === 'flowscope_alerting_queue_jobs')) rows.push([`Queue ${q.labels.queue ?? '?'}, ${q.labels.state ?? '?'}`, n(q.value)]);
    byLabel('Rule evaluations', 'flowscope_alerting_evaluations_total', 'outcome');
    byLabel('Email attempts', 'flowscope_alerting_email_attempts_total', 'outcome');
  }
  return rows;
}

function CheckText({ check, good }: { check: Check | null; good: string }) {
  if (!check) return <>—</>;
  return check.ok ? <span class="ok">{good}</span> : <span class="bad">{check.detail}</span>;
}

function ComponentCard({ c }: { c: ComponentState }) {
  const title = TITLES[c.name];
  const rows = figures(c);
  return (
    <Section title={title}>
      <p class="muted">
        {c.where === 'this process' ? 'This process.' : c.where === 'remote' ? `Read by the query API from ${c.url ?? '?'}.` : `Not configured: set ${URL_KEYS[c.name]} on the query API to see it here.`}
      </p>
      {c.where !== 'not configured' && (
        <dl class="summary" aria-label={`${title} state`}>
          <div><dt>Liveness (/health)</dt><dd><CheckText check={c.health} good="healthy" /></dd></div>
          <div><dt>Readiness (/ready)</dt><dd><CheckText check={c.ready} good={c.ready?.detail ?? 'ready'} /></dd></div>
          {rows.map(([label, value]) => (
            <div key={label}><dt>{label}</dt><dd>{value}</dd></div>
          ))}
        </dl>
      )}
      {c.error && <p class="alert alert-error">Metrics not read: {c.error}</p>}
    </Section>
  );
}

/** Health and readiness of every flowscope process and their counters (read by the query API), and what storage says. */
export function System() {
  useTitle('System');
  const health = useApi<Health>('health');
  const system = useApi<SystemAnswer>('system');
  // refresh every 10 s
  useEffect(() => {
    const t = setInterval(() => {
      system.reload();
      health.reload();
    }, 10_000);
    return () => clearInterval(t);
  }, [system.reload, health.reload]);
  const h = health.data;
  const all = system.data?.components ?? [];
  const down = all.filter((c) => c.where !== 'not configured' && (!c.health?.ok || !c.ready?.ok));
  return (
    <main id="main">
      <div class="page-head">
        <h1>System</h1>
        {system.data && <span class={`badge ${down.length === 0 ? 'status-completed' : 'status-failed'}`}>{down.length === 0 ? 'all reachable processes ready' : `${down.map((c) => TITLES[c.name]).join(', ')} not ready`}</span>}
      </div>
      {system.error !== undefined && <ErrorBox error={system.error} retry={system.reload} />}
      {!system.data && system.error === undefined && <Loading what="the processes" />}
      <div class="three-col">
        {all.map((c) => <ComponentCard key={c.name} c={c} />)}
      </div>
      {health.error !== undefined && <ErrorBox error={health.error} retry={health.reload} />}
      {h && (
        <Section title="Workflows, errors and ingest (from storage)">
          <dl class="summary" aria-label="Storage">
            <div><dt>Active workflows</dt><dd>{h.workflows.active}</dd></div>
            <div><dt>Failed in the last hour</dt><dd>{h.workflows.failed_last_hour}</dd></div>
            <div><dt>Timed out in the last hour</dt><dd>{h.workflows.timed_out_last_hour}</dd></div>
            <div><dt>Unresolved errors</dt><dd>{h.errors.unresolved}</dd></div>
            <div><dt>Spans in the last 5 min (before sampling)</dt><dd>{h.ingest.spans_last_5m.toLocaleString('en-US')} ({h.ingest.spans_per_second.toFixed(1)}/s)</dd></div>
            <div><dt>Error spans in the last 5 min</dt><dd>{h.ingest.errors_last_5m}</dd></div>
            <div><dt>Firing alerts</dt><dd>{h.alerts.firing} ({h.alerts.firing_critical} critical, {h.alerts.firing_warning} warning)</dd></div>
            <div><dt>Enabled rules</dt><dd>{h.alerts.rules_enabled}</dd></div>
            <div><dt>As of (UTC)</dt><dd>{formatTime(h.generated_at)}</dd></div>
          </dl>
        </Section>
      )}
    </main>
  );
}

