/**
 * "flowscope errors": unresolved errors by layer, severity and error type over time (from the
 * database, through the query API's gauge), the error rate from the span metrics, and the
 * newest unresolved errors with links to their workflow and trace.
 */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../metrics.ts';
import { API, FROM, TO, apiList, flowscopeDashboard, flowscopeUrlVariable, labelVariable, prom, runsTable, stat, timeseries } from '../panels.ts';

export const ERRORS_UID = 'flowscope-errors';

const SEL = 'layer=~"$layer", severity=~"$severity", error_type=~"$error_type"';
/** Every query-api replica reports the same counts: one value per group, then sum. */
const UNRESOLVED = `max by (layer, severity, error_type) (${METRICS.errorsUnresolved}{${SEL}})`;

export function errorsDashboard(): Dashboard {
  return flowscopeDashboard('flowscope errors', ERRORS_UID, 'Unresolved errors by layer, severity and type over time; error rate; the newest unresolved errors.', { from: 'now-6h' })
    .withVariable(labelVariable('layer', 'Layer', `label_values(${METRICS.errorsUnresolved}, layer)`))
    .withVariable(labelVariable('severity', 'Severity', `label_values(${METRICS.errorsUnresolved}, severity)`))
    .withVariable(labelVariable('error_type', 'Error type', `label_values(${METRICS.errorsUnresolved}, error_type)`))
    .withVariable(flowscopeUrlVariable())

    .withRow(new RowBuilder('Unresolved'))
    .withPanel(stat('Unresolved errors', 'Errors not yet resolved (selected layers, severities and types).', 'short', `sum(${UNRESOLVED})`, 6))
    .withPanel(
      timeseries('Unresolved by layer', 'Unresolved errors over time, by layer.', 'short', 6).withTarget(prom(`sum by (layer) (${UNRESOLVED})`, '{{layer}}')),
    )
    .withPanel(
      timeseries('Unresolved by severity', 'Unresolved errors over time, by severity.', 'short', 6).withTarget(prom(`sum by (severity) (${UNRESOLVED})`, '{{severity}}')),
    )
    .withPanel(
      timeseries('Unresolved by type', 'Unresolved errors over time, the ten largest error types.', 'short', 6).withTarget(
        prom(`topk(10, sum by (error_type) (${UNRESOLVED}))`, '{{error_type}}'),
      ),
    )

    .withRow(new RowBuilder('Rate'))
    .withPanel(
      timeseries('Error rate by layer', 'Error spans per second (every span, before sampling), by layer.', 'reqps').withTarget(
        prom(`sum by (layer) (rate(${METRICS.errors}{layer=~"$layer", error_type=~"$error_type"}[$__rate_interval]))`, '{{layer}}'),
      ),
    )
    .withPanel(
      timeseries('Error rate by type', 'Error spans per second, by workflow type and error type.', 'reqps').withTarget(
        prom(`sum by (workflow_type, error_type) (rate(${METRICS.errors}{layer=~"$layer", error_type=~"$error_type"}[$__rate_interval]))`, '{{workflow_type}} {{error_type}}'),
      ),
    )

    .withRow(new RowBuilder('Newest'))
    .withPanel(
      runsTable(
        'Unresolved errors',
        'GET /api/v1/debugging/errors?resolved=false in the time range, newest first. Workflow id opens the flowscope UI; Trace opens the trace view.',
        24,
        12,
        apiList(`${API}/errors`, [['resolved', 'false'], ['from', FROM], ['to', TO], ['limit', '200']], [
          ['occurred_at', 'Time', 'time'],
          ['severity', 'Severity'],
          ['layer', 'Layer'],
          ['component', 'Component'],
          ['error_type', 'Error type'],
          ['message', 'Message'],
          ['workflow_type', 'Workflow type'],
          ['correlation_id', 'Workflow id'],
          ['trace_id', 'Trace'],
        ]),
      ),
    )
    .build();
}
