/**
 * CORS on /v1/traces for browser exporters: listed origins get the headers (preflight
 * included), others get none (the browser refuses) and a 403 preflight; no setting, no CORS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_ALLOWED_HEADERS } from '../src/cors.ts';
import { startCollector, type TestCollector } from './helpers.ts';

const LISTED = 'http://shop.example:8080';
let c: TestCollector;
let none: TestCollector;

beforeAll(async () => {
  c = await startCollector('pglite', { FLOWSCOPE_CORS_ORIGINS: `${LISTED}, https://other.example` });
  none = await startCollector('pglite', {});
});
afterAll(async () => {
  await c?.dispose();
  await none?.dispose();
});

const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/v1/traces',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
});

describe('CORS for /v1/traces', () => {
  it('answers the preflight of a listed origin', async () => {
    const res = await c.collector.app.inject(preflight(LISTED));
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(LISTED);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    expect(String(res.headers['access-control-allow-headers']).split(', ')).toEqual(CORS_ALLOWED_HEADERS);
  });

  it('refuses the preflight of another origin, without CORS headers', async () => {
    const res = await c.collector.app.inject(preflight('http://evil.example'));
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('puts the allow-origin header on an export from a listed origin only', async () => {
    const body = { resourceSpans: [] };
    const ok = await c.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { origin: LISTED, 'content-type': 'application/json' }, payload: body });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(LISTED);
    const other = await c.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, payload: body });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS headers when FLOWSCOPE_CORS_ORIGINS is unset', async () => {
    const res = await none.collector.app.inject(preflight(LISTED));
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
