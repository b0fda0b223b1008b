import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export { freePort } from '@flowscope/common/testing';

/**
 * One checkout workflow exported with the OpenTelemetry SDK over OTLP/HTTP (protobuf):
 * `POST /checkout` (server) with a child `INSERT orders` (client, PostgreSQL) that fails with
 * "deadlock detected" unless `failed` is false. Resolves once the collector acknowledged it.
 */
export async function sendCheckout(
  tracesUrl: string,
  workflowId: string,
  options: { service?: string; startTime?: number; failed?: boolean; workflowType?: string } = {},
): Promise<{ traceId: string; rootSpanId: string }> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service ?? 'shop-api' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))],
  });
  const tracer = provider.getTracer('flowscope-tests');
  const at = options.startTime ?? Date.now();
  const wf = { 'workflow.type': options.workflowType ?? 'checkout', 'workflow.id': workflowId };
  const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: at, attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/checkout' } });
  const db = tracer.startSpan('INSERT orders', { kind: SpanKind.CLIENT, startTime: at + 5, attributes: { ...wf, 'db.system': 'postgresql' } }, trace.setSpan(context.active(), root));
  if (options.failed ?? true) db.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
  db.end(at + 45);
  root.end(at + 60);
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: root.spanContext().traceId, rootSpanId: root.spanContext().spanId };
}
