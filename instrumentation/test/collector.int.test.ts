/**
 * End to end: two services instrumented with initFlowscope, a real HTTP hop between them, and
 * the real flowscope collector (embedded PostgreSQL) receiving both. The rows it stores carry
 * the upstream workflow on the downstream service's spans.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import type { Collector } from '@flowscope/collector';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';
import { initFlowscope } from '../src/index.ts';

let db: Database;
let disposeDb: () => Promise<void>;
let collector: Collector;
let endpoint: string;

beforeAll(async () => {
  const t = await openTestDatabase('pglite');
  db = t.db;
  disposeDb = () => t.dispose();
  collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: pino({ level: 'silent' }) });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await collector?.close();
  await disposeDb?.();
});

describe('instrumentation → collector', () => {
  it('stores the downstream spans under the upstream workflow', async () => {
    const api = initFlowscope({ serviceName: 'shop-api', endpoint, layer: 'api', defaultInstrumentations: false });
    const inventory = initFlowscope({ serviceName: 'inventory', endpoint, layer: 'service', register: false });

    const server = createServer((req, res) => {
      context.with(inventory.extract(req.headers, ROOT_CONTEXT), () => {
        inventory.tracer.startActiveSpan('GET /stock', { kind: SpanKind.SERVER }, (span) => {
          inventory.tracer.startSpan('SELECT stock', { attributes: { 'db.system': 'postgresql' } }).end();
          span.end();
          res.end('ok');
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stockUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stock`;

    try {
      const traceId = await api.withWorkflow('checkout', 'order-1234', () =>
        api.tracer.startActiveSpan('POST /checkout', { kind: SpanKind.SERVER }, async (root) => {
          const client = api.tracer.startSpan('GET inventory', { kind: SpanKind.CLIENT });
          const headers: Record<string, string> = {};
          api.inject(headers, trace.setSpan(context.active(), client));
          expect((await fetch(stockUrl, { headers })).status).toBe(200);
          client.end();
          root.end();
          return root.spanContext().traceId;
        }),
      );
      // Export is acknowledged only after commit, so the rows are there once shutdown returns.
      await inventory.shutdown();
      await api.shutdown();

      const rows = await db.query<{ name: string; component: string; layer: string; workflow_type: string; workflow_id: string }>(
        'SELECT name, component, layer, workflow_type, workflow_id FROM trace_steps WHERE trace_id = $1 ORDER BY name',
        [traceId],
      );
      expect(rows).toEqual([
        { name: 'GET /stock', component: 'inventory', layer: 'service', workflow_type: 'checkout', workflow_id: 'order-1234' },
        { name: 'GET inventory', component: 'shop-api', layer: 'api', workflow_type: 'checkout', workflow_id: 'order-1234' },
        { name: 'POST /checkout', component: 'shop-api', layer: 'api', workflow_type: 'checkout', workflow_id: 'order-1234' },
        // A database client span gets no configured layer: the collector infers it from db.system.
        { name: 'SELECT stock', component: 'inventory', layer: 'database', workflow_type: 'checkout', workflow_id: 'order-1234' },
      ]);
      const sessions = await db.query<{ workflow_type: string; span_count: number }>(
        'SELECT workflow_type, span_count FROM workflow_sessions WHERE workflow_id = $1',
        ['order-1234'],
      );
      expect(sessions).toEqual([{ workflow_type: 'checkout', span_count: 4 }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
