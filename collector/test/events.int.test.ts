import { describe, expect, it } from 'vitest';
import { LocalEventBus, type LiveEvent } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector } from '../src/index.ts';
import { collectorConfig, otlpJson, spanId, testLogger } from './helpers.ts';

describe('workflow lifecycle events', () => {
  it('publishes started, then completed or failed, once per change, after commit', async () => {
    const t = await openTestDatabase('postgres');
    const events = new LocalEventBus();
    const seen: LiveEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const c = buildCollector({ db: t.db, config: collectorConfig(), logger: testLogger(), events });
    const send = (spans: Parameters<typeof otlpJson>[1]) =>
      c.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(otlpJson('svc', spans)) });
    try {
      const ok = 'ab'.repeat(16);
      const bad = 'cd'.repeat(16);
      // A child first: the workflow starts, still in progress.
      expect((await send([{ traceId: ok, spanId: spanId(1), parentSpanId: spanId(0), attributes: { 'workflow.type': 'login', 'workflow.id': 'wf-ok' } }])).statusCode).toBe(200);
      // /metrics counts it among the workflows in progress, by type (from the database).
      expect((await c.app.inject('/metrics')).body).toMatch(/debugging_active_workflows_total\{workflow_type="login"\} 1/);
      // Its root ends without error: completed.
      expect((await send([{ traceId: ok, spanId: spanId(0), attributes: { 'workflow.type': 'login', 'workflow.id': 'wf-ok' } }])).statusCode).toBe(200);
      // The same root again (a retry): no new event.
      expect((await send([{ traceId: ok, spanId: spanId(0), attributes: { 'workflow.type': 'login', 'workflow.id': 'wf-ok' } }])).statusCode).toBe(200);
      expect((await send([{ traceId: bad, spanId: spanId(0), status: { code: 2 }, attributes: { 'workflow.type': 'login', 'workflow.id': 'wf-bad' } }])).statusCode).toBe(200);
      expect(seen.map((e) => [e.type, (e as { workflow_id: string }).workflow_id])).toEqual([
        ['workflow.started', 'wf-ok'],
        ['workflow.completed', 'wf-ok'],
        ['workflow.started', 'wf-bad'],
        ['workflow.failed', 'wf-bad'],
      ]);
      expect(seen[3]).toMatchObject({ workflow_type: 'login', error_count: 1, trace_id: bad });
    } finally {
      await c.close();
      await events.close();
      await t.dispose();
    }
  });
});
