/**
 * The dashboards flowscope ships, as Grafana JSON, keyed by their file name under
 * `grafana/dashboards/`. `generate.ts` writes them; a test checks the committed files match.
 */
import { overviewDashboard } from './dashboards/overview.ts';
import { tracesDashboard } from './dashboards/traces.ts';

export { DATASOURCES, FLOWSCOPE_API, JAEGER, PROMETHEUS } from './datasources.ts';
export { METRICS, knownSeriesNames, seriesNamesIn } from './metrics.ts';
export { OVERVIEW_UID } from './dashboards/overview.ts';
export { TRACES_UID } from './dashboards/traces.ts';

/** Gives every panel (rows included) a distinct id, in layout order, so links to `viewPanel=N` are stable. */
function numberPanels<T extends { panels?: { id?: number }[] }>(dashboard: T): T {
  dashboard.panels?.forEach((panel, index) => {
    panel.id = index + 1;
  });
  return dashboard;
}

export function dashboards(): Record<string, object> {
  return {
    'flowscope-overview.json': numberPanels(overviewDashboard()),
    'workflow-traces.json': numberPanels(tracesDashboard()),
  };
}

/** File contents exactly as committed: two-space JSON and a final newline. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(dashboards()).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}
