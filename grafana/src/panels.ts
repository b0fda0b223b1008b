/**
 * Building blocks shared by the dashboards: Prometheus queries, panels with flowscope's
 * defaults, variables, links from table cells to the flowscope UI and to the trace view.
 */
import {
  DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, QueryVariableBuilder, TextBoxVariableBuilder, VariableRefresh, VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { DynamicConfigValue } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BigValueColorMode, BigValueGraphMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, SortOrder, TableCellDisplayMode, TableSortByFieldStateBuilder,
  TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { FLOWSCOPE_API, PROMETHEUS } from './datasources.ts';
import { JsonApiQueryBuilder, type JsonApiField } from './queries.ts';

export const TAGS = ['flowscope', 'generated'];
export const TRACES_UID = 'flowscope-workflow-traces';

/** REST API prefix under the query API's base URL (the JSON API data source's URL). */
export const API = '/api/v1/debugging';

/** The dashboard time range as the REST API's `from`/`to` (ISO 8601). */
export const FROM = '${__from:date:iso}';
export const TO = '${__to:date:iso}';

/** A range query (one series per label set over time). */
export function prom(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(expr).legendFormat(legend).range();
}

/** An instant query shown as a table. */
export function promTable(expr: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(expr).instant().format(PromQueryFormat.Table);
}

export function timeseries(title: string, description: string, unit: string, width = 12, datasource: DataSourceRef = PROMETHEUS): TimeseriesPanel {
  return new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .min(0)
    .height(8)
    .span(width)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).calcs(['mean', 'max', 'lastNotNull']))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

export function stat(title: string, description: string, unit: string, expr: string, width = 6): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .height(4)
    .span(width)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(prom(expr, ''));
}

export function table(title: string, description: string, width = 24, height = 10, datasource: DataSourceRef = FLOWSCOPE_API): TablePanel {
  return new TablePanel().title(title).description(description).datasource(datasource).height(height).span(width).cellOptions({ type: TableCellDisplayMode.Auto });
}

export function sortedBy(panel: TablePanel, column: string, desc = true): TablePanel {
  return panel.sortBy([new TableSortByFieldStateBuilder().displayName(column).desc(desc)]);
}

/** A JSON API query on a REST path (relative to the query API's base URL). */
export function api(path: string, refId = 'A'): JsonApiQueryBuilder {
  return new JsonApiQueryBuilder(path, refId);
}

/** A column of a REST list: the item field under `$.data[*]`, the column name, its type. */
export type Column = [field: string, name: string, type?: JsonApiField['type']];

/** A JSON API query on a REST list (`{ data: [...] }`): its query parameters, then its columns. */
export function apiList(path: string, params: [string, string][], columns: Column[], refId = 'A'): JsonApiQueryBuilder {
  const query = api(path, refId);
  for (const [key, value] of params) query.param(key, value);
  for (const [field, name, type] of columns) query.field(`$.data[*].${field}`, name, type);
  return query;
}

/** A table of workflows or errors whose "Workflow id" and "Trace" columns open those pages. */
export function runsTable(title: string, description: string, width: number, height: number, query: JsonApiQueryBuilder): TablePanel {
  return withLinks(table(title, description, width, height).withTarget(query), workflowLink('Workflow id'), traceLink('Trace'));
}

/** Warning and critical threshold series drawn as dashed orange and red lines. */
export const THRESHOLD_LINE_OVERRIDES: { regexp: string; color: string }[] = [
  { regexp: '.*warning.*', color: 'orange' },
  { regexp: '.*critical.*', color: 'red' },
];

export function withThresholdLines(panel: TimeseriesPanel): TimeseriesPanel {
  for (const { regexp, color } of THRESHOLD_LINE_OVERRIDES) {
    panel.overrideByRegexp(regexp, [
      { id: 'color', value: { mode: 'fixed', fixedColor: color } },
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
    ]);
  }
  return panel;
}

/** Cell links: a column of workflow ids opens the flowscope UI's workflow page. */
export function workflowLink(column: string): [string, DynamicConfigValue[]] {
  return [column, [{ id: 'links', value: [{ title: 'Open the workflow in flowscope', url: '${flowscope_url}/workflows/${__value.raw}', targetBlank: true }] }]];
}

/** Cell links: a column of alert ids opens the flowscope UI's alert page. */
export function alertLink(column: string): [string, DynamicConfigValue[]] {
  return [column, [{ id: 'links', value: [{ title: 'Open the alert in flowscope', url: '${flowscope_url}/alerts/${__value.raw}', targetBlank: true }] }]];
}

/** Cell links: a column of trace ids opens Grafana's trace view (the traces dashboard's waterfall) and the flowscope UI's trace page. */
export function traceLink(column: string): [string, DynamicConfigValue[]] {
  return [
    column,
    [
      {
        id: 'links',
        value: [
          { title: 'Trace view (Jaeger data source)', url: `/d/${TRACES_UID}/workflow-traces?var-trace_id=\${__value.raw}&\${__url_time_range}` },
          { title: 'Open the trace in flowscope', url: '${flowscope_url}/traces/${__value.raw}', targetBlank: true },
        ],
      },
    ],
  ];
}

export function withLinks(panel: TablePanel, ...links: [string, DynamicConfigValue[]][]): TablePanel {
  for (const [name, properties] of links) panel.overrideByName(name, properties);
  return panel;
}

/** A Prometheus label variable (multi-value, with All = `.*`). */
export function labelVariable(name: string, label: string, query: string, options: { multi?: boolean; includeAll?: boolean } = {}): QueryVariableBuilder {
  const multi = options.multi ?? true;
  const includeAll = options.includeAll ?? true;
  const builder = new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(includeAll);
  if (includeAll) builder.allValue('.*').current({ text: 'All', value: '$__all', selected: true });
  return builder;
}

/** A variable whose values come from the query API (JSON API plugin), e.g. the Jaeger service list. */
export function apiVariable(name: string, label: string, path: string, jsonPath: string, includeAll: boolean): QueryVariableBuilder {
  const builder = new QueryVariableBuilder(name)
    .label(label)
    .datasource(FLOWSCOPE_API)
    .query(api(path).field(jsonPath, name).build() as unknown as Record<string, unknown>)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(false)
    .includeAll(includeAll);
  if (includeAll) builder.allValue('').current({ text: 'All', value: '$__all', selected: true });
  return builder;
}

/**
 * Base URL of the flowscope UI as browsers reach it (links in tables open its pages). Set it
 * once in the dashboard's settings, or with `?var-flowscope_url=` in links.
 */
export function flowscopeUrlVariable(): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder('flowscope_url')
    .label('flowscope UI')
    .description('Base URL of the flowscope UI (the query API) as your browser reaches it; table links open its pages.')
    .defaultValue('http://localhost:8000')
    .current({ text: 'http://localhost:8000', value: 'http://localhost:8000', selected: false });
}

/**
 * A dashboard with flowscope's header, the same on all six: the tags, links to the others,
 * the browser's time zone, editable; by default a shared crosshair, a 30 s refresh and the
 * last hour.
 */
export function flowscopeDashboard(
  title: string,
  uid: string,
  description: string,
  options: { from?: string; refresh?: string; crosshair?: boolean } = {},
): DashboardBuilder {
  const builder = new DashboardBuilder(title).uid(uid).description(description).tags(TAGS).editable();
  if (options.crosshair ?? true) builder.tooltip(DashboardCursorSync.Crosshair);
  return builder
    .refresh(options.refresh ?? '30s')
    .time({ from: options.from ?? 'now-1h', to: 'now' })
    .timezone('browser')
    .link(dashboardLinks());
}

/** Links in every dashboard's header to the other flowscope dashboards. */
export function dashboardLinks(): DashboardLinkBuilder {
  return new DashboardLinkBuilder('flowscope').type(DashboardLinkType.Dashboards).tags(['flowscope']).asDropdown(true).includeVars(false).keepTime(true).targetBlank(false);
}
