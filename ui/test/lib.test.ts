import { describe, expect, it } from 'vitest';
import { matchRoute, UI_ROUTES } from '../src/routes.ts';
import { DEFAULT_FILTERS, filtersFromSearch, filtersToApi, filtersToSearch, searchTarget } from '../src/lib/filters.ts';
import { formatDuration, parseIsoMs, rangeBounds } from '../src/lib/time.ts';
import { formatRate, statsQuery } from '../src/lib/stats.ts';

describe('routes', () => {
  it.each([
    ['/', 'home', {}],
    ['/workflows', 'workflows', {}],
    ['/workflows/', 'workflows', {}],
    ['/workflows/wf%2F1%20x', 'workflow', { id: 'wf/1 x' }],
    ['/traces/0af7651916cd43dd8448eb211c80319c', 'trace', { id: '0af7651916cd43dd8448eb211c80319c' }],
    ['/alerts/12', 'alert', { id: '12' }],
    ['/system', 'system', {}],
  ])('%s → %s', (path, name, params) => {
    expect(matchRoute(path)).toEqual({ name, params });
  });
  it.each(['/api/v1/debugging/workflows', '/jaeger/api/services', '/ws/debugging/', '/docs', '/health', '/ready', '/metrics', '/workflows/a/b', '/workflows/%E0%A4%A'])(
    'no UI route at %s',
    (path) => {
      expect(matchRoute(path)).toBeNull();
    },
  );
  it('no UI route shadows the API, Jaeger, live stream, docs or ops paths', () => {
    for (const r of UI_ROUTES) expect(r.path).not.toMatch(/^\/(api|jaeger|ws|docs|health|ready|metrics|assets)(\/|$)/);
  });
});

describe('workflow filters', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  it('round-trip through the page URL, leaving defaults out', () => {
    const f = { ...DEFAULT_FILTERS, type: 'checkout', status: 'failed', range: '1h', minDuration: '250', errorsOnly: true, sort: '-duration_ms', page: 2 };
    const s = filtersToSearch(f);
    expect(s).toBe('?type=checkout&status=failed&range=1h&min_ms=250&errors=1&sort=-duration_ms&page=2');
    expect(filtersFromSearch(new URLSearchParams(s))).toEqual(f);
    expect(filtersToSearch(DEFAULT_FILTERS)).toBe('');
  });
  it('unknown sort and bad page fall back to defaults', () => {
    expect(filtersFromSearch(new URLSearchParams('sort=drop table&page=-3'))).toEqual(DEFAULT_FILTERS);
  });
  it('map to the API query', () => {
    expect(filtersToApi({ ...DEFAULT_FILTERS, type: 'login', range: '1h', minDuration: '100', errorsOnly: true, page: 3 }, 50, now)).toEqual({
      workflow_type: 'login', status: undefined, from: '2026-01-01T11:00:00.000Z', min_duration_ms: 100, has_errors: true, sort: undefined, limit: 50, offset: 150,
    });
    expect(filtersToApi({ ...DEFAULT_FILTERS, range: 'all', minDuration: 'abc' }, 50, now)).toMatchObject({ min_duration_ms: undefined });
    expect(rangeBounds('all', now)).toEqual({});
  });
  it.each([
    ['0AF7651916CD43DD8448EB211C80319C', '/traces/0af7651916cd43dd8448eb211c80319c'],
    ['  order-42 ', '/workflows/order-42'],
    ['a/b', '/workflows/a%2Fb'],
    ['   ', null],
  ])('search %j opens %s', (text, target) => {
    expect(searchTarget(text)).toBe(target);
  });
});

describe('time', () => {
  it('keeps the microseconds of API times', () => {
    expect(parseIsoMs('2026-01-01T00:00:00.123456Z') - Date.UTC(2026, 0, 1)).toBeCloseTo(123.456, 3);
    expect(parseIsoMs('2026-01-01T00:00:01Z') - Date.UTC(2026, 0, 1)).toBe(1000);
  });
  it.each([
    [0.25, '250 µs'], [3.456, '3.46 ms'], [42.1, '42.1 ms'], [250, '250 ms'], [1240, '1.24 s'], [42_000, '42.0 s'], [125_000, '2 min 5 s'],
    [3_780_000, '1 h 3 min'], [null, '—'],
  ])('formatDuration(%s) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('workflow stats', () => {
  it.each([[300, '5.0/s'], [35, '35/min'], [0.4, '0.4/min'], [0.05, '3/h'], [1 / 1440, '0.042/h'], [0, '0/h']])('formatRate(%s) = %s', (v, text) => {
    expect(formatRate(v)).toBe(text);
  });
  it('the summary covers the list range; any time looks back 30 days', () => {
    const now = Date.UTC(2026, 0, 31);
    expect(statsQuery({ range: '1h', type: 'login' }, now)).toEqual({ from: '2026-01-30T23:00:00.000Z', to: '2026-01-31T00:00:01.000Z', workflow_type: 'login' });
    expect(statsQuery({ range: 'all', type: '' }, now).from).toBe('2026-01-01T00:00:00.000Z');
  });
});
