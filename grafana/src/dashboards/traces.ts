/**
 * "workflow traces": search traces through query-api's Jaeger-compatible API (workflow type
 * and correlation id are searchable tags), draw one trace as a waterfall, and list recent
 * failed workflows from the REST API.
 */
import { DashboardBuilder, PanelBuilder, RowBuilder, TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { FLOWSCOPE_API, JAEGER } from '../datasources.ts';
import { JaegerQueryBuilder, JsonApiQueryBuilder } from '../queries.ts';

export const TRACES_UID = 'flowscope-workflow-traces';

function textbox(name: string, label: string, description: string, value = ''): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(name)
    .label(label)
    .description(description)
    .defaultValue(value)
    .current({ text: value, value, selected: false });
}

export function tracesDashboard(): Dashboard {
  return new DashboardBuilder('workflow traces')
    .uid(TRACES_UID)
    .description('Trace search and waterfall through the flowscope query API (Jaeger-compatible), and recent failed workflows.')
    .tags(['flowscope', 'generated'])
    .editable()
    .refresh('')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(textbox('service', 'Service', 'service.name of the spans to search (required by the Jaeger search).'))
    .withVariable(textbox('operation', 'Operation', 'Span name; empty for all operations.'))
    .withVariable(
      textbox('tags', 'Tags', 'logfmt tag filter, for example: workflow.type=checkout workflow.id=ord-42 error=true'),
    )
    .withVariable(textbox('min_duration', 'Min duration', 'Only traces at least this long, for example 500ms or 2s.'))
    .withVariable(textbox('trace_id', 'Trace ID', 'Trace to draw as a waterfall; click a trace id in the search table to open it in Explore.'))

    .withRow(new RowBuilder('Search'))
    .withPanel(
      new TablePanel()
        .title('Traces')
        .description('Jaeger trace search over stored (sampled) traces.')
        .datasource(JAEGER)
        .height(12)
        .span(24)
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
    .withRow(new RowBuilder('Failed workflows'))
    .withPanel(
      new TablePanel()
        .title('Recent failed workflows')
        .description('From the REST API: GET /api/v1/debugging/workflows?status=failed.')
        .datasource(FLOWSCOPE_API)
        .height(10)
        .span(24)
        .withTarget(
          new JsonApiQueryBuilder('/workflows')
            .param('status', 'failed')
            .param('limit', '50')
            .field('$.items[*].correlationId', 'Workflow id')
            .field('$.items[*].workflowType', 'Type')
            .field('$.items[*].startedAt', 'Started', 'time')
            .field('$.items[*].durationMs', 'Duration (ms)', 'number')
            .field('$.items[*].errorCount', 'Errors', 'number'),
        ),
    )
    .build();
}
