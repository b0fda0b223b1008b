import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector } from '../src/index.ts';
import { collectorConfig, otlpJson, spanId } from './helpers.ts';

describe('request logs', () => {
  it('every line about a request carries its correlation id and trace ids, never attribute values', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const t = await openTestDatabase('pglite');
    const c = buildCollector({ db: t.db, config: collectorConfig(), logger: pino({ level: 'info' }, sink) });
    try {
      const traceId = '12'.repeat(16);
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-42' },
        payload: JSON.stringify(
          otlpJson('svc', [
            { traceId, spanId: spanId(1), attributes: { password: 'hunter2', 'user.email': 'a@b.c' } },
            { traceId, spanId: 'bad' },
          ]),
        ),
      });
      expect(res.statusCode).toBe(200);
      const about = lines.filter((l) => l.msg === 'rejected invalid spans' || l.msg === 'export accepted');
      expect(about.map((l) => l.msg).sort()).toEqual(['export accepted', 'rejected invalid spans']);
      for (const l of about) {
        expect(l.correlationId).toBe('corr-42');
        expect(l.traceIds).toEqual([traceId]);
      }
      const all = JSON.stringify(lines);
      expect(all).not.toContain('hunter2');
      expect(all).not.toContain('a@b.c');
    } finally {
      await c.close();
      await t.dispose();
    }
  });
});
