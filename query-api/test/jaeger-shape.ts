import { expect } from 'vitest';

/**
 * What Grafana's Jaeger data source reads from a trace (public/app/plugins/datasource/jaeger:
 * responseTransform.ts): traceID, spans[].{traceID, spanID, operationName, references
 * (CHILD_OF gives the parent), startTime/duration in µs, tags/logs as typed key-values,
 * processID → processes[id].{serviceName, tags}, warnings}.
 */
export function expectJaegerTraceShape(trace: Record<string, unknown>): void {
  expect(trace.traceID).toMatch(/^[0-9a-f]{32}$/);
  const processes = trace.processes as Record<string, { serviceName: string; tags: unknown[] }>;
  expect(typeof processes).toBe('object');
  for (const [id, p] of Object.entries(processes)) {
    expect(id).toMatch(/^p\d+$/);
    expect(typeof p.serviceName).toBe('string');
    for (const t of p.tags) expectKeyValue(t);
  }
  const spans = trace.spans as Record<string, unknown>[];
  expect(spans.length).toBeGreaterThan(0);
  const ids = new Set(spans.map((s) => s.spanID));
  for (const s of spans) {
    expect(s.traceID).toBe(trace.traceID);
    expect(s.spanID).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof s.operationName).toBe('string');
    expect(Number.isSafeInteger(s.startTime)).toBe(true);
    expect(s.startTime as number).toBeGreaterThan(1e15); // µs since 1970, not ms or ns
    expect(s.startTime as number).toBeLessThan(1e17);
    expect(Number.isSafeInteger(s.duration)).toBe(true);
    expect(s.duration as number).toBeGreaterThanOrEqual(0);
    expect(Object.keys(processes)).toContain(s.processID);
    for (const r of s.references as Record<string, unknown>[]) {
      expect(['CHILD_OF', 'FOLLOWS_FROM']).toContain(r.refType);
      expect(r.traceID).toMatch(/^[0-9a-f]{32}$/);
      expect(r.spanID).toMatch(/^[0-9a-f]{16}$/);
      if (r.refType === 'CHILD_OF' && r.traceID === trace.traceID) expect(typeof r.spanID).toBe('string');
    }
    for (const t of s.tags as unknown[]) expectKeyValue(t);
    for (const l of s.logs as { timestamp: number; fields: unknown[] }[]) {
      expect(Number.isSafeInteger(l.timestamp)).toBe(true);
      for (const f of l.fields) expectKeyValue(f);
    }
    expect(s.warnings === null || Array.isArray(s.warnings)).toBe(true);
  }
  // every CHILD_OF inside the trace points at a span of the trace (or a span not stored)
  expect(ids.size).toBe(spans.length);
}

export function expectKeyValue(kv: unknown): void {
  const t = kv as { key: unknown; type: unknown; value: unknown };
  expect(typeof t.key).toBe('string');
  const types: Record<string, string> = { string: 'string', bool: 'boolean', int64: 'number', float64: 'number' };
  expect(Object.keys(types)).toContain(t.type);
  expect(typeof t.value).toBe(types[t.type as string]);
  if (t.type === 'int64') expect(Number.isInteger(t.value)).toBe(true);
}

export function expectEnvelope(body: Record<string, unknown>): void {
  expect(Object.keys(body).sort()).toEqual(['data', 'errors', 'limit', 'offset', 'total']);
  expect(body.errors).toBeNull();
}
