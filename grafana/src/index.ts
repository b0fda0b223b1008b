/**
 * The dashboards flowscope ships, as Grafana JSON, keyed by their file name under
 * `grafana/dashboards/`. `generate.ts` writes them; a test checks the committed files match.
 */
import { alertsDashboard } from './dashboards/alerts.ts';
import { drilldownDashboard } from './dashboards/drilldown.ts';
import { errorsDashboard } from './dashboards/errors.ts';
import { healthDashboard } from './dashboards/health.ts';
import { overviewDashboard } from './dashboards/overview.ts';
import { tracesDashboard } from './dashboards/traces.ts';

export { DATASOURCES, FLOWSCOPE_API, JAEGER, PROMETHEUS } from './datasources.ts';
export { METRICS, knownSeriesNames, seriesNamesIn } from './metrics.ts';
export { OVERVIEW_UID } from './dashboards/overview.ts';
export { TRACES_UID } from './dashboards/traces.ts';
export { DRILLDOWN_UID } from './dashboards/drilldown.ts';
export { ERRORS_UID } from './dashboards/errors.ts';
export { ALERTS_UID } from './dashboards/alerts.ts';
export { HEALTH_UID } from './dashboards/health.ts';

/** Gives every panel (rows included) a distinct id, in layout order, so links to `viewPanel=N` are stable. */
function numberPanels<T extends { panels?: { id?: number }[] }>(dashboard: T): T {
  dashboard.panels?.forEach((panel, index) => {
    panel.id = index + 1;
  });
  return conform(dashboard as T & Conformable);
}

interface Conformable {
  templating?: { list?: Record<string, unknown>[] };
  panels?: { type?: string; options?: Record<string, unknown> }[];
}

/**
 * Drops what the foundation SDK writes but the dashboard schema of the Grafana we deploy
 * (@grafana/schema, same version as the image in deploy/) does not have: interval-only settings
 * on other variables, the variable editor's `definition` echo, and the table `footer` option
 * (moved to field config in Grafana 12). test/schema.test.ts holds the output to that schema.
 */
function conform<T extends Conformable>(dashboard: T): T {
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'interval') for (const key of ['auto', 'auto_min', 'auto_count']) delete variable[key];
    delete variable.definition;
  }
  for (const panel of dashboard.panels ?? []) if (panel.type === 'table') delete panel.options?.footer;
  return dashboard;
}

export function dashboards(): Record<string, object> {
  return {
    'flowscope-overview.json': numberPanels(overviewDashboard()),
    'workflow-drilldown.json': numberPanels(drilldownDashboard()),
    'workflow-traces.json': numberPanels(tracesDashboard()),
    'flowscope-errors.json': numberPanels(errorsDashboard()),
    'thresholds-alerts.json': numberPanels(alertsDashboard()),
    'flowscope-health.json': numberPanels(healthDashboard()),
  };
}

/** File contents exactly as committed: two-space JSON and a final newline. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(dashboards()).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}
