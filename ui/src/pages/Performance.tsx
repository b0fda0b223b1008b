import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { useApi, useTitle } from '../hooks.ts';
import { navigate, useLocation } from '../router.tsx';
import { ErrorBox, Loading, Section } from '../components.tsx';
import { GROUP_COLORS, groupColumns, stepFor, thresholdsFor, toColumns, type LabelledSeries, type RuleLike } from '../lib/perf.ts';
import { formatDuration } from '../lib/time.ts';
import { QUICK_RANGES } from '../lib/time.ts';
import type { Page } from '../lib/types.ts';
import type { ChartSeries } from './Chart.tsx';

type ChartProps = { title: string; data: (number | null)[][]; series: ChartSeries[]; unit: string; height?: number };

/** The chart library is loaded with this page only (keeps the first load small). */
function LazyChart(props: ChartProps) {
  const [C, setC] = useState<ComponentType<ChartProps> | null>(null);
  useEffect(() => {
    let live = true;
    void import('./Chart.tsx').then((m) => live && setC(() => m.default));
    return () => {
      live = false;
    };
  }, []);
  return C ? <C {...props} /> : <Loading what="the chart" />;
}

const LAYERS = ['api', 'database', 'frontend', 'service', 'cache', 'queue', 'external'];
const RANGES = QUICK_RANGES.filter((r) => r.key !== 'all' && r.key !== '7d');

/** p50/p95/p99 per workflow type and layer against the warning and critical lines; throughput and error rate. */
export function Performance() {
  useTitle('Performance');
  const loc = useLocation();
  const layer = loc.search.get('layer') ?? 'api';
  const workflowType = loc.search.get('workflow_type') ?? '';
  const component = loc.search.get('component') ?? '';
  const range = loc.search.get('range') ?? '1h';
  const rangeMs = RANGES.find((r) => r.key === range)?.ms ?? 3600_000;
  const [now, setNow] = useState(() => Date.now());
  const fixedFrom = loc.search.get('from');
  const fixedTo = loc.search.get('to');
  const params = useMemo(() => {
    if (fixedFrom && Number.isFinite(Date.parse(fixedFrom))) {
      // an explicit window (links from alert emails), widened to whole minutes
      const f = Math.floor(Date.parse(fixedFrom) / 60_000) * 60_000;
      const t = Math.ceil(((fixedTo && Date.parse(fixedTo)) || now) / 60_000) * 60_000 + 60_000;
      return { from: new Date(f).toISOString(), to: new Date(t).toISOString(), step: stepFor(t - f), layer, workflow_type: workflowType || undefined };
    }
    const to = Math.floor(now / 60_000) * 60_000 + 60_000;
    return { from: new Date(to - rangeMs).toISOString(), to: new Date(to).toISOString(), step: stepFor(rangeMs), layer, workflow_type: workflowType || undefined };
  }, [now, rangeMs, layer, workflowType, fixedFrom, fixedTo]);
  const perf = useApi<{ series: LabelledSeries[] }>('performance', { ...params, component: component || undefined });
  // every component of the layer (and workflow type) over the same range
  const byComponent = useApi<{ series: LabelledSeries[] }>('performance', { ...params, group_by: 'component' });
  const rules = useApi<Page<RuleLike>>('alert-rules', { limit: 200 });
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(loc.search);
    if (v) q.set(k, v);
    else q.delete(k);
    if (k === 'range') {
      q.delete('from');
      q.delete('to');
    }
    setNow(Date.now());
    navigate(`/performance${q.size ? `?${q}` : ''}`, true);
  };
  const points = perf.data?.series[0]?.points ?? [];
  const th = thresholdsFor(rules.data?.data ?? [], layer, workflowType, component);
  const layerTh = thresholdsFor(rules.data?.data ?? [], layer, workflowType);
  const latency = useMemo(() => {
    const cols = toColumns(points, ['p50_ms', 'p95_ms', 'p99_ms']);
    const xs = cols[0] ?? [];
    const series: ChartSeries[] = [
      { label: 'p50', color: '#0891b2' },
      { label: 'p95', color: '#2563eb' },
      { label: 'p99', color: '#7c3aed' },
    ];
    if (th?.warning != null) {
      cols.push(xs.map(() => th.warning));
      series.push({ label: `warning ${th.warning} ms`, color: '#d97706', dash: [6, 4], width: 1.5 });
    }
    if (th?.critical != null) {
      cols.push(xs.map(() => th.critical));
      series.push({ label: `critical ${th.critical} ms`, color: '#b42318', dash: [6, 4], width: 1.5 });
    }
    return { cols, series };
  }, [points, th?.warning, th?.critical]);
  const traffic = useMemo(() => toColumns(points, ['rate_per_second']), [points]);
  const errors = useMemo(() => toColumns(points, ['error_rate'], { error_rate: 100 }), [points]);
  const total = points.reduce((s, p) => s + p.count, 0);
  const groups = useMemo(() => {
    const g = groupColumns(byComponent.data?.series ?? [], 'component');
    const series: ChartSeries[] = g.names.map((name, i) => ({ label: name, color: GROUP_COLORS[i % GROUP_COLORS.length]! }));
    const cols = [...g.cols];
    const xs = cols[0] ?? [];
    if (layerTh?.warning != null) {
      cols.push(xs.map(() => layerTh.warning));
      series.push({ label: `warning ${layerTh.warning} ms`, color: '#d97706', dash: [6, 4], width: 1.5 });
    }
    if (layerTh?.critical != null) {
      cols.push(xs.map(() => layerTh.critical));
      series.push({ label: `critical ${layerTh.critical} ms`, color: '#b42318', dash: [6, 4], width: 1.5 });
    }
    return { ...g, cols, series };
  }, [byComponent.data, layerTh?.warning, layerTh?.critical]);

  return (
    <main id="main">
      <div class="page-head"><h1>Performance</h1></div>
      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="p-type">Workflow type</label>
          <input id="p-type" value={workflowType} placeholder="all" onChange={(e) => set('workflow_type', (e.target as HTMLInputElement).value.trim())} />
        </div>
        <div class="field">
          <label for="p-layer">Layer</label>
          <select id="p-layer" value={layer} onChange={(e) => set('layer', (e.target as HTMLSelectElement).value)}>
            {LAYERS.map((l) => <option key={l} value={l}>{l}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="p-component">Component</label>
          <input id="p-component" value={component} placeholder="all" onChange={(e) => set('component', (e.target as HTMLInputElement).value.trim())} />
        </div>
        <div class="field">
          <label for="p-range">Range</label>
          <select id="p-range" value={fixedFrom ? 'custom' : range} onChange={(e) => set('range', (e.target as HTMLSelectElement).value)}>
            {fixedFrom && <option value="custom">{`${fixedFrom} – ${fixedTo ?? 'now'}`}</option>}
            {RANGES.map((r) => <option key={r.key} value={r.key}>{r.label}</option>)}
          </select>
        </div>
        <button type="button" class="btn" onClick={() => setNow(Date.now())}>Refresh</button>
      </form>
      {perf.error !== undefined && <ErrorBox error={perf.error} retry={perf.reload} />}
      {perf.loading && !perf.data && <Loading what="the series" />}
      {perf.data && (
        <>
          <p class="muted" role="status">
            {total.toLocaleString('en-US')} {layer} spans{workflowType ? ` of ${workflowType}` : ''}{component ? ` in ${component}` : ''} in the range (every span, before sampling).
            {th ? ` Threshold lines: warning ${th.warning ?? '—'} ms, critical ${th.critical ?? '—'} ms (${th.source}).` : ' No latency threshold for this layer.'}
          </p>
          <Section title="Latency (ms)">
            <LazyChart title={`p50, p95 and p99 latency of ${layer} spans${component ? ` in ${component}` : ''} with the warning and critical thresholds`} data={latency.cols} series={latency.series} unit="ms" />
          </Section>
          <div class="two-col">
            <Section title="Throughput (spans per second)">
              <LazyChart title="Throughput" data={traffic} series={[{ label: 'spans/s', color: '#059669' }]} unit="per s" height={180} />
            </Section>
            <Section title="Error rate (%)">
              <LazyChart title="Error rate" data={errors} series={[{ label: 'errors %', color: '#b42318' }]} unit="%" height={180} />
            </Section>
          </div>
        </>
      )}
      {byComponent.error !== undefined && <ErrorBox error={byComponent.error} retry={byComponent.reload} />}
      {byComponent.data && groups.rows.length > 0 && (
        <Section title={`By component (${layer} spans)`}>
          <LazyChart title={`p95 latency of ${layer} spans per component with the warning and critical thresholds`} data={groups.cols} series={groups.series} unit="ms" />
          {groups.rows.length > groups.names.length && <p class="muted">The chart shows the {groups.names.length} busiest components; the table lists all {groups.rows.length}.</p>}
          <table class="table table-compact">
            <caption class="sr-only">Components of the {layer} layer</caption>
            <thead>
              <tr>
                <th scope="col">Component</th>
                <th scope="col" class="num">Spans</th>
                <th scope="col" class="num">Error rate</th>
                <th scope="col" class="num">Worst p95 of a step</th>
              </tr>
            </thead>
            <tbody>
              {groups.rows.map((r) => (
                <tr key={r.name} aria-current={r.name === component ? 'true' : undefined}>
                  <td>
                    <button type="button" class="btn-link" onClick={() => set('component', r.name === component ? '' : r.name)}>
                      {r.name}
                    </button>
                  </td>
                  <td class="num">{r.count.toLocaleString('en-US')}</td>
                  <td class={`num${r.count > 0 && r.errors / r.count > 0.05 ? ' bad' : ''}`}>{r.count > 0 ? `${((100 * r.errors) / r.count).toFixed(1)} %` : '—'}</td>
                  <td class={`num${layerTh?.critical != null && r.worstP95 !== null && r.worstP95 >= layerTh.critical ? ' bad' : ''}`}>{formatDuration(r.worstP95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </main>
  );
}
