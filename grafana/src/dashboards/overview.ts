/**
 * "flowscope overview": workflows, latency and errors from the span metrics every collector
 * derives before sampling, and the collector's own ingest health.
 */
import { DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { BigValueColorMode, BigValueGraphMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, SortOrder, TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMETHEUS } from '../datasources.ts';
import { METRICS } from '../metrics.ts';

export const OVERVIEW_UID = 'flowscope-overview';

/** Label filter applied to every span-metric query by the dashboard variables. */
const WF = 'workflow_type=~"$workflow_type"';
const WF_LAYER = `${WF}, layer=~"$layer"`;

/**
 * Workflows in progress by type. The gauge is a count of `workflow_sessions` rows, so every
 * replica that exports it reports the same number: take the max across instances, not the sum.
 */
const ACTIVE_BY_TYPE = `max by (workflow_type) (${METRICS.activeWorkflows}{${WF}})`;

function prom(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(expr).legendFormat(legend).range();
}

function timeseries(title: string, description: string, unit: string): TimeseriesPanel {
  return new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .min(0)
    .height(8)
    .span(12)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).calcs(['mean', 'max', 'lastNotNull']))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

function stat(title: string, description: string, unit: string, expr: string): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .height(4)
    .span(6)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(prom(expr, '').instant());
}

function quantile(q: number, by: string, extraFilter = WF_LAYER): string {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${METRICS.responseTime}_bucket{${extraFilter}}[$__rate_interval])))`;
}

function labelVariable(name: string, label: string, metric: string): QueryVariableBuilder {
  const query = `label_values(${metric}, ${name})`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all', selected: true });
}

export function overviewDashboard(): Dashboard {
  return new DashboardBuilder('flowscope overview')
    .uid(OVERVIEW_UID)
    .description('Workflows, latency and errors from flowscope span metrics (every span, before sampling), and collector ingest health.')
    .tags(['flowscope', 'generated'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(labelVariable('workflow_type', 'Workflow type', `${METRICS.responseTime}_count`))
    .withVariable(labelVariable('layer', 'Layer', `${METRICS.responseTime}_count`))

    .withRow(new RowBuilder('Workflows'))
    .withPanel(stat('Active workflows', 'Workflows in progress right now.', 'short', `sum(${ACTIVE_BY_TYPE})`))
    .withPanel(stat('Spans per second', 'Spans of the selected workflows and layers.', 'reqps', `sum(rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`))
    .withPanel(stat('Errors per second', 'Error spans and exception events.', 'reqps', `sum(rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval]))`))
    .withPanel(
      stat(
        'p95 latency',
        'p95 span duration over all selected workflows and layers.',
        's',
        `histogram_quantile(0.95, sum by (le) (rate(${METRICS.responseTime}_bucket{${WF_LAYER}}[$__rate_interval])))`,
      ),
    )
    .withPanel(
      timeseries('Active workflows by type', 'Workflows in progress, by workflow type.', 'short').withTarget(
        prom(ACTIVE_BY_TYPE, '{{workflow_type}}'),
      ),
    )
    .withPanel(
      timeseries('Span rate by workflow type', 'Spans per second, by workflow type.', 'reqps').withTarget(
        prom(`sum by (workflow_type) (rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`, '{{workflow_type}}'),
      ),
    )

    .withRow(new RowBuilder('Latency'))
    .withPanel(
      timeseries('Latency by workflow type', 'p50, p95 and p99 span duration, by workflow type.', 's')
        .withTarget(prom(quantile(0.5, 'workflow_type'), 'p50 {{workflow_type}}', 'A'))
        .withTarget(prom(quantile(0.95, 'workflow_type'), 'p95 {{workflow_type}}', 'B'))
        .withTarget(prom(quantile(0.99, 'workflow_type'), 'p99 {{workflow_type}}', 'C')),
    )
    .withPanel(
      timeseries('p95 latency by layer', 'p95 span duration, by layer (frontend, api, service, database, cache, queue, external).', 's').withTarget(
        prom(quantile(0.95, 'layer'), '{{layer}}'),
      ),
    )

    .withRow(new RowBuilder('Errors'))
    .withPanel(
      timeseries('Error rate by workflow type', 'Errors per second, by workflow type.', 'reqps').withTarget(
        prom(`sum by (workflow_type) (rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval]))`, '{{workflow_type}}'),
      ),
    )
    .withPanel(
      timeseries('Error ratio by workflow type', 'Errors divided by spans, by workflow type.', 'percentunit').withTarget(
        prom(
          `sum by (workflow_type) (rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval])) / sum by (workflow_type) (rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`,
          '{{workflow_type}}',
        ),
      ),
    )
    .withPanel(
      new TablePanel()
        .title('Errors by type')
        .description('Errors over the dashboard time range, by workflow type, layer and error type.')
        .datasource(PROMETHEUS)
        .height(8)
        .span(24)
        .withTarget(
          new DataqueryBuilder()
            .datasource(PROMETHEUS)
            .refId('A')
            .expr(`sort_desc(sum by (workflow_type, layer, error_type) (increase(${METRICS.errors}{${WF_LAYER}}[$__range])))`)
            .instant()
            .format(PromQueryFormat.Table),
        ),
    )

    .withRow(new RowBuilder('Collector'))
    .withPanel(
      timeseries('Spans received and accepted', 'Spans decoded from export requests, and spans acknowledged to senders.', 'reqps')
        .withTarget(prom(`sum(rate(${METRICS.spansReceived}[$__rate_interval]))`, 'received', 'A'))
        .withTarget(prom(`sum(rate(${METRICS.spansAccepted}[$__rate_interval]))`, 'accepted', 'B')),
    )
    .withPanel(
      timeseries('Spans refused by reason', 'Invalid spans, and backpressure (queue full, storage unavailable, memory limit).', 'reqps').withTarget(
        prom(`sum by (reason) (rate(${METRICS.spansRefused}[$__rate_interval]))`, '{{reason}}'),
      ),
    )
    .withPanel(
      timeseries('Write latency', 'Time to commit one group-commit batch.', 's')
        .withTarget(prom(`histogram_quantile(0.5, sum by (le) (rate(${METRICS.writeDuration}_bucket[$__rate_interval])))`, 'p50', 'A'))
        .withTarget(prom(`histogram_quantile(0.99, sum by (le) (rate(${METRICS.writeDuration}_bucket[$__rate_interval])))`, 'p99', 'B')),
    )
    .withPanel(
      timeseries('Collector instances up', 'Scrape targets of the flowscope processes that answer.', 'short').withTarget(
        prom('sum by (job) (up{job=~"flowscope-.*"})', '{{job}}'),
      ),
    )
    .build();
}
