/**
 * "flowscope overview": the old system's three panels (Active Workflows, Error Rate, Response
 * Time — same metric names), then workflows, latency and errors by workflow type and layer from
 * the span metrics every collector derives before sampling.
 */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../metrics.ts';
import { flowscopeDashboard, labelVariable, prom, promTable, stat, table, timeseries } from '../panels.ts';
import { PROMETHEUS } from '../datasources.ts';

export const OVERVIEW_UID = 'flowscope-overview';

/** Label filter applied to every span-metric query by the dashboard variables. */
const WF = 'workflow_type=~"$workflow_type"';
const WF_LAYER = `${WF}, layer=~"$layer"`;

/**
 * Workflows in progress by type. The gauge is a count of `workflow_sessions` rows, so every
 * replica that exports it reports the same number: take the max across instances, not the sum.
 */
const ACTIVE_BY_TYPE = `max by (workflow_type) (${METRICS.activeWorkflows}{${WF}})`;

function quantile(q: number, by: string): string {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${METRICS.responseTime}_bucket{${WF_LAYER}}[$__rate_interval])))`;
}

export function overviewDashboard(): Dashboard {
  return flowscopeDashboard('flowscope overview', OVERVIEW_UID, 'Workflows, latency and errors from flowscope span metrics (every span, before sampling).')
    .withVariable(labelVariable('workflow_type', 'Workflow type', `label_values(${METRICS.responseTime}_count, workflow_type)`))
    .withVariable(labelVariable('layer', 'Layer', `label_values(${METRICS.responseTime}_count, layer)`))

    // The panels users of the replaced system know, with its titles and metric names.
    .withRow(new RowBuilder('Workflows'))
    .withPanel(stat('Active Workflows', 'Workflows in progress right now (debugging_active_workflows_total).', 'short', `sum(${ACTIVE_BY_TYPE})`, 8))
    .withPanel(
      timeseries('Error Rate', 'Errors per second over 5 minutes, by workflow type (rate(debugging_errors_total[5m])).', 'reqps', 8).withTarget(
        prom(`sum by (workflow_type) (rate(${METRICS.errors}{${WF_LAYER}}[5m]))`, '{{workflow_type}}'),
      ),
    )
    .withPanel(
      timeseries('Response Time', 'p95 span duration by workflow type (debugging_response_time_seconds).', 's', 8).withTarget(
        prom(quantile(0.95, 'workflow_type'), '{{workflow_type}}'),
      ),
    )
    .withPanel(stat('Spans per second', 'Spans of the selected workflows and layers.', 'reqps', `sum(rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`))
    .withPanel(stat('Errors per second', 'Error spans of the selected workflows and layers.', 'reqps', `sum(rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval]))`))
    .withPanel(
      stat(
        'p95 latency',
        'p95 span duration over all selected workflows and layers.',
        's',
        `histogram_quantile(0.95, sum by (le) (rate(${METRICS.responseTime}_bucket{${WF_LAYER}}[$__rate_interval])))`,
      ),
    )
    .withPanel(
      stat(
        'Error ratio',
        'Error spans divided by spans, all selected workflows and layers.',
        'percentunit',
        `sum(rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval])) / sum(rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`,
      ),
    )
    .withPanel(timeseries('Active workflows by type', 'Workflows in progress, by workflow type.', 'short').withTarget(prom(ACTIVE_BY_TYPE, '{{workflow_type}}')))
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
      timeseries('Error ratio by workflow type', 'Errors divided by spans, by workflow type.', 'percentunit').withTarget(
        prom(
          `sum by (workflow_type) (rate(${METRICS.errors}{${WF_LAYER}}[$__rate_interval])) / sum by (workflow_type) (rate(${METRICS.responseTime}_count{${WF_LAYER}}[$__rate_interval]))`,
          '{{workflow_type}}',
        ),
      ),
    )
    .withPanel(
      table('Errors by type', 'Errors over the dashboard time range, by workflow type, layer and error type.', 12, 8, PROMETHEUS).withTarget(
        promTable(`sort_desc(sum by (workflow_type, layer, error_type) (increase(${METRICS.errors}{${WF_LAYER}}[$__range])))`),
      ),
    )
    .build();
}
