/**
 * "workflow drill-down": one workflow type at a time. Latency percentiles against the alert
 * rules' warning and critical lines, errors by layer, one component's latency from the stored
 * snapshots, the slowest and the failed runs (rows open the flowscope UI and the trace view),
 * and the traces of one operation.
 */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { FLOWSCOPE_API, JAEGER } from '../datasources.ts';
import { METRICS } from '../metrics.ts';
import {
  API, FROM, TO, api, apiList, apiVariable, flowscopeDashboard, flowscopeUrlVariable, labelVariable, prom, runsTable, sortedBy, table, timeseries,
  withThresholdLines,
} from '../panels.ts';
import { JaegerQueryBuilder } from '../queries.ts';

export const DRILLDOWN_UID = 'flowscope-workflow-drilldown';

const SEL = 'workflow_type="$workflow_type", layer=~"$layer"';

/** Rules scoped to every workflow type carry workflow_type="*"; rules for all types "". */
const RULE_SCOPE = 'workflow_type=~"\\\\*|$workflow_type|", layer=~"$layer"';

function quantileMs(q: number): string {
  return `histogram_quantile(${q}, sum by (le) (rate(${METRICS.responseTime}_bucket{${SEL}}[$__rate_interval]))) * 1000`;
}

function workflowTable(title: string, description: string, status?: string): ReturnType<typeof table> {
  const params: [string, string][] = [['workflow_type', '$workflow_type'], ['from', FROM], ['to', TO], ['limit', '500']];
  if (status) params.push(['status', status]);
  const query = apiList(`${API}/workflows`, params, [
    ['workflow_id', 'Workflow id'],
    ['status', 'Status'],
    ['started_at', 'Started', 'time'],
    ['duration_ms', 'Duration (ms)', 'number'],
    ['span_count', 'Spans', 'number'],
    ['error_count', 'Errors', 'number'],
    ['first_trace_id', 'Trace'],
  ]);
  return sortedBy(runsTable(title, description, 12, 10, query), 'Duration (ms)');
}

export function drilldownDashboard(): Dashboard {
  return flowscopeDashboard('workflow drill-down', DRILLDOWN_UID, 'One workflow type: latency against the alert thresholds, errors, a component and an operation, the slowest and failed runs.')
    .withVariable(labelVariable('workflow_type', 'Workflow type', `label_values(${METRICS.responseTime}_count, workflow_type)`, { multi: false, includeAll: false }))
    .withVariable(labelVariable('layer', 'Layer', `label_values(${METRICS.responseTime}_count{workflow_type="$workflow_type"}, layer)`))
    .withVariable(apiVariable('component', 'Component', '/jaeger/api/services', '$.data[*]', false))
    .withVariable(apiVariable('operation', 'Operation', '/jaeger/api/services/$component/operations', '$.data[*]', true))
    .withVariable(flowscopeUrlVariable())

    .withRow(new RowBuilder('Latency and errors'))
    .withPanel(
      withThresholdLines(
        timeseries(
          'Latency percentiles vs thresholds',
          'p50, p95 and p99 span duration of the workflow type (selected layers), with the warning and critical lines of the p95 duration alert rules of those layers.',
          'ms',
          24,
        )
          .withTarget(prom(quantileMs(0.5), 'p50', 'A'))
          .withTarget(prom(quantileMs(0.95), 'p95', 'B'))
          .withTarget(prom(quantileMs(0.99), 'p99', 'C'))
          .withTarget(prom(`max by (rule, level) (${METRICS.ruleThreshold}{metric="duration_ms:p95", ${RULE_SCOPE}})`, '{{rule}} {{level}}', 'D')),
      ),
    )
    .withPanel(
      timeseries('p95 latency by layer', 'Where the time goes: p95 span duration of the workflow type, by layer.', 's').withTarget(
        prom(`histogram_quantile(0.95, sum by (le, layer) (rate(${METRICS.responseTime}_bucket{${SEL}}[$__rate_interval])))`, '{{layer}}'),
      ),
    )
    .withPanel(
      timeseries('Errors by layer', 'Error spans per second of the workflow type, by layer and error type.', 'reqps').withTarget(
        prom(`sum by (layer, error_type) (rate(${METRICS.errors}{${SEL}}[$__rate_interval]))`, '{{layer}} {{error_type}}'),
      ),
    )

    .withRow(new RowBuilder('Component'))
    .withPanel(
      timeseries(
        'Component latency',
        'p50, p95 and p99 duration of the component\'s spans in this workflow type, per minute, from the stored snapshots (GET /api/v1/debugging/performance).',
        'ms',
        24,
        FLOWSCOPE_API,
      ).withTarget(
        api(`${API}/performance`)
          .param('workflow_type', '$workflow_type')
          .param('component', '$component')
          .param('from', FROM)
          .param('to', TO)
          .field('$.series[0].points[*].time', 'Time', 'time')
          .field('$.series[0].points[*].p50_ms', 'p50', 'number')
          .field('$.series[0].points[*].p95_ms', 'p95', 'number')
          .field('$.series[0].points[*].p99_ms', 'p99', 'number'),
      ),
    )

    .withRow(new RowBuilder('Runs'))
    .withPanel(workflowTable('Slowest workflows', 'Runs of the workflow type in the time range (newest 500), slowest first. Workflow id opens the flowscope UI; Trace opens the trace view.'))
    .withPanel(workflowTable('Failed workflows', 'Failed runs of the workflow type in the time range, slowest first. Workflow id opens the flowscope UI; Trace opens the trace view.', 'failed'))
    .withPanel(
      table('Traces of the operation', 'Stored traces of the workflow type through the component and operation (Jaeger search); a trace id opens the trace view.', 24, 10, JAEGER).withTarget(
        new JaegerQueryBuilder().search({ service: '$component', operation: '$operation', tags: 'workflow.type=$workflow_type', limit: 50 }),
      ),
    )
    .build();
}
