import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { createCollectorMetrics } from '../src/metrics.ts';
import { mapExport } from '../src/map.ts';
import { Chain, pass, type Stage } from '../src/stage.ts';
import type { DecodedBatch, ExportBatch, RowsBatch } from '../src/stages.ts';
import type { DecodedExport, DecodedSpan } from '../src/model.ts';
import { spanId } from './helpers.ts';

export const T = 'ab'.repeat(16);

export const decodedSpan = (over: Partial<DecodedSpan> = {}): DecodedSpan => ({
  traceId: T,
  spanId: spanId(1),
  parentSpanId: '',
  name: 'op',
  kind: 1,
  startUnixNano: 1_000_000_000n,
  endUnixNano: 2_000_000_000n,
  attributes: {},
  events: [],
  links: [],
  statusCode: 0,
  statusMessage: '',
  ...over,
});

export const request = (spans: DecodedSpan[], resource: Record<string, unknown> = { 'service.name': 'svc' }): DecodedExport => ({
  resourceSpans: [{ resource, scopeSpans: [{ scopeName: 's', spans }] }],
  spanCount: spans.length,
});

const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

/** A batch as the pipeline starts it, after decoding. */
export const decodedBatch = (req: DecodedExport, body: Buffer = Buffer.from('body')): DecodedBatch => ({
  request: req,
  spanCount: req.spanCount,
  received: req.spanCount,
  log: silent,
  body,
  rejected: 0,
  rejectionMessage: '',
  traceIds: [],
});

/** A batch as the map stage leaves it. */
export const rowsBatch = (req: DecodedExport, body?: Buffer): RowsBatch => {
  const { request: _request, ...rest } = decodedBatch(req, body);
  const m = mapExport(req);
  return { ...rest, spans: m.spans, errors: m.errors, traceIds: m.traceIds, spanCount: m.spans.length };
};

/** The next stage of a stage under test: records every batch it is given and passes it on. */
export function recorder<T>(): Stage<T, T> & { seen: T[] } {
  const seen: T[] = [];
  return {
    name: 'recorder',
    seen,
    process(batch) {
      seen.push(batch);
      return pass(batch);
    },
  };
}

/** `stage` followed by a recording next stage, counted on fresh collector metrics. */
export function harness<I extends ExportBatch, O extends ExportBatch>(stage: Stage<I, O>) {
  const metrics = createCollectorMetrics();
  const next = recorder<O>();
  const chain = Chain.start<ExportBatch, I>(metrics).then(stage).then(next);
  return { metrics, next, chain };
}

interface Readable {
  get(): Promise<{ values: Array<{ value: number; labels: Partial<Record<string, string | number>> }> }>;
}

/** A metric's value for exactly these labels (0 when the series does not exist). */
export async function valueOf(metric: Readable, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  const want = Object.entries(labels);
  const match = values.find((v) => Object.keys(v.labels).length === want.length && want.every(([k, x]) => v.labels[k] === x));
  return match?.value ?? 0;
}

/** The label sets a metric has series for. */
export async function seriesOf(metric: Readable): Promise<Array<Partial<Record<string, string | number>>>> {
  return (await metric.get()).values.map((v) => v.labels);
}
