/**
 * "workflow traces": search traces through query-api's Jaeger-compatible API (workflow type
 * and correlation id are searchable tags), draw one trace as a waterfall, and list recent
 * failed workflows and unresolved errors from the REST API (`{data, total, limit, offset}` pages).
 */
import { PanelBuilder, RowBuilder, TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { JAEGER } from '../datasources.ts';
import { JaegerQueryBuilder } from '../queries.ts';
import { API, TRACES_UID, apiList, flowscopeDashboard, flowscopeUrlVariable, runsTable, table } from '../panels.ts';

export { TRACES_UID };

function textbox(name: string, label: string, description: string, value = ''): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(name)
    .label(label)
    .description(description)
    .defaultValue(value)
    .current({ text: value, value, selected: false });
}

export function tracesDashboard(): Dashboard {
  return flowscopeDashboard('workflow traces', TRACES_UID, 'Trace search and waterfall through the flowscope query API (Jaeger-compatible), and recent failed workflows.', { refresh: '', crosshair: false })
    .withVariable(textbox('service', 'Service', 'service.name of the spans to search (required by the Jaeger search).'))
    .withVariable(textbox('operation', 'Operation', 'Span name; empty for all operations.'))
    .withVariable(
      textbox('tags', 'Tags', 'logfmt tag filter, for example: workflow.type=checkout workflow.id=ord-42 error=true'),
    )
    .withVariable(textbox('min_duration', 'Min duration', 'Only traces at least this long, for example 500ms or 2s.'))
    .withVariable(textbox('trace_id', 'Trace ID', 'Trace to draw as a waterfall; click a trace id in the search table to open it in Explore.'))
    .withVariable(flowscopeUrlVariable())

    .withRow(new RowBuilder('Search'))
    .withPanel(
      table('Traces', 'Jaeger trace search over stored (sampled) traces.', 24, 12, JAEGER)
        .withTarget(
          new JaegerQueryBuilder().search({
            service: '$service',
            operation: '$operation',
            tags: '$tags',
            minDuration: '$min_duration',
            limit: 50,
          }),
        ),
    )
    .withRow(new RowBuilder('Trace'))
    .withPanel(
      new PanelBuilder()
        .type('traces')
        .title('Trace waterfall')
        .description('The trace named by the Trace ID variable.')
        .datasource(JAEGER)
        .height(16)
        .span(24)
        .withTarget(new JaegerQueryBuilder().traceId('$trace_id')),
    )
    .withRow(new RowBuilder('Failed workflows and errors'))
    .withPanel(
      runsTable(
        'Recent failed workflows',
        'GET /api/v1/debugging/workflows?status=failed (newest first). Search a workflow id as tag workflow.id=… above.',
        12,
        10,
        apiList(`${API}/workflows`, [['status', 'failed'], ['limit', '50']], [
          ['workflow_id', 'Workflow id'],
          ['workflow_type', 'Type'],
          ['started_at', 'Started', 'time'],
          ['duration_ms', 'Duration (ms)', 'number'],
          ['error_count', 'Errors', 'number'],
          ['first_trace_id', 'Trace'],
        ]),
      ),
    )
    .withPanel(
      runsTable(
        'Unresolved errors',
        'GET /api/v1/debugging/errors?resolved=false (newest first).',
        12,
        10,
        apiList(`${API}/errors`, [['resolved', 'false'], ['limit', '50']], [
          ['occurred_at', 'Time', 'time'],
          ['workflow_type', 'Type'],
          ['layer', 'Layer'],
          ['error_type', 'Error type'],
          ['message', 'Message'],
          ['correlation_id', 'Workflow id'],
          ['trace_id', 'Trace'],
        ]),
      ),
    )
    .build();
}
