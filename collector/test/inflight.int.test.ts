import { request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpJson, otlpProto, spanId, startCollector, traceId, type TestCollector } from './helpers.ts';

/** Issue 13 (1): every byte a request takes from the in-flight budget comes back, on every path. */
describe('in-flight byte budget', () => {
  let t: TestCollector;
  const MAX_BODY = 256 * 1024;
  beforeAll(async () => {
    // A budget a few requests' worth: any leak shows up as 503 within this test.
    t = await startCollector('pglite', { FLOWSCOPE_MAX_BODY_BYTES: String(MAX_BODY), FLOWSCOPE_MAX_INFLIGHT_BYTES: String(1024 * 1024) }, { listen: true });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const inflight = async () => {
    const text = await (await fetch(`${t.base}/metrics`)).text();
    return Number(/^flowscope_inflight_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  /** The budget comes back when the response has closed, a moment after the client has it. */
  const settledInflight = async () => {
    for (let i = 0; i < 100; i++) {
      const n = await inflight();
      if (n === 0) return 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    return inflight();
  };
  const post = (headers: Record<string, string>, body: Buffer) =>
    fetch(`${t.base}/v1/traces`, { method: 'POST', headers, body });
  const valid = () => otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1), attributes: { pad: 'p'.repeat(20_000) } }]);

  it('gives back what gzip, deflate, bombs, corrupt, refused and aborted requests took, and ingest keeps working', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * MAX_BODY, 0x20));
    const cases: [Record<string, string>, Buffer, number][] = [];
    for (let i = 0; i < 8; i++) {
      cases.push([{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(JSON.stringify(valid())), 200]);
      cases.push([{ 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' }, deflateSync(otlpProto(valid())), 200]);
      cases.push([{ 'content-type': 'application/json' }, Buffer.from(JSON.stringify(valid())), 200]);
      cases.push([{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, bomb, 413]);
      cases.push([{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync('{"resourceSpans": ['), 400]);
      cases.push([{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(200_000, 0x41)).subarray(0, 300), 400]);
    }
    for (const [headers, body, status] of cases) {
      const res = await post(headers, body);
      await res.arrayBuffer();
      expect(res.status).toBe(status);
    }
    // Clients that go away half-way through a compressed body.
    for (let i = 0; i < 4; i++) {
      await new Promise<void>((resolve) => {
        const req = request(`${t.base}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) },
        });
        req.on('error', () => resolve());
        req.write(bomb.subarray(0, Math.floor(bomb.length / 2)), () => setTimeout(() => req.destroy(), 20));
        req.on('close', () => resolve());
      });
    }
    expect(await settledInflight()).toBe(0);
    const after = await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(JSON.stringify(valid())));
    expect(after.status).toBe(200);
    expect(await settledInflight()).toBe(0);
  });
});
