import type { ApiSpan, CriticalSegment } from './types.ts';
import { parseIsoMs } from './time.ts';

/** One span of the waterfall, in display order (depth first, children by start time). */
export interface FlatSpan {
  span: ApiSpan;
  /** `trace_id:span_id`, unique within a workflow (span ids are unique only per trace). */
  key: string;
  depth: number;
  /** Index of the parent row, -1 for a root. */
  parent: number;
  /** Index one past this span's last descendant in the flat list. */
  subtreeEnd: number;
  childCount: number;
  startMs: number;
  endMs: number;
  /** Parts of this span on the workflow's critical path, as [start, end] in epoch ms. */
  critical: [number, number][];
  /** This span or one of its descendants is an error (shown on a collapsed row). */
  errorInSubtree: boolean;
}

export interface Waterfall {
  rows: FlatSpan[];
  startMs: number;
  endMs: number;
  byKey: Map<string, number>;
}

export const spanKey = (traceId: string | null | undefined, spanId: string | null | undefined) => `${traceId ?? ''}:${spanId ?? ''}`;

/**
 * Flattens the API's span trees into display order without recursion (a 10,000-span workflow
 * may be one deep chain), attaching the critical-path segments to their spans.
 */
export function flattenSpans(roots: readonly ApiSpan[], critical: readonly CriticalSegment[] = []): Waterfall {
  const bySpan = new Map<string, [number, number][]>();
  for (const seg of critical) {
    if (!seg.span_id) continue;
    const start = parseIsoMs(seg.start_time);
    const k = spanKey(seg.trace_id, seg.span_id);
    const list = bySpan.get(k) ?? [];
    list.push([start, start + seg.duration_ms]);
    bySpan.set(k, list);
  }
  const byStart = (a: ApiSpan, b: ApiSpan) => parseIsoMs(a.start_time) - parseIsoMs(b.start_time);
  const rows: FlatSpan[] = [];
  const byKey = new Map<string, number>();
  // stack of [span, depth]; children pushed in reverse so the earliest comes out first
  const stack: [ApiSpan, number][] = [...roots].sort(byStart).reverse().map((s) => [s, 0]);
  const open: number[] = []; // indices of ancestors whose subtreeEnd is not yet known
  let minStart = Infinity;
  let maxEnd = -Infinity;
  while (stack.length > 0) {
    const [span, depth] = stack.pop() as [ApiSpan, number];
    while (open.length > depth) {
      const i = open.pop() as number;
      (rows[i] as FlatSpan).subtreeEnd = rows.length;
    }
    const startMs = parseIsoMs(span.start_time);
    const endMs = Math.max(startMs, parseIsoMs(span.end_time));
    minStart = Math.min(minStart, startMs);
    maxEnd = Math.max(maxEnd, endMs);
    const key = spanKey(span.trace_id, span.span_id);
    const children = span.children ?? [];
    const parent = open.length > 0 ? (open[open.length - 1] as number) : -1;
    byKey.set(key, rows.length);
    open.push(rows.length);
    rows.push({
      span, key, depth, parent, subtreeEnd: rows.length + 1, childCount: children.length, startMs, endMs,
      critical: bySpan.get(key) ?? [], errorInSubtree: span.is_error,
    });
    const sorted = [...children].sort(byStart);
    for (let i = sorted.length - 1; i >= 0; i--) stack.push([sorted[i] as ApiSpan, depth + 1]);
  }
  while (open.length > 0) (rows[open.pop() as number] as FlatSpan).subtreeEnd = rows.length;
  // errors bubble up to ancestors (reverse order: descendants come after their ancestors)
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i] as FlatSpan;
    if (r.errorInSubtree && r.parent >= 0) (rows[r.parent] as FlatSpan).errorInSubtree = true;
  }
  if (rows.length === 0) return { rows, startMs: 0, endMs: 0, byKey };
  return { rows, startMs: minStart, endMs: maxEnd, byKey };
}

/** Indices of the rows to show when the spans whose keys are in `collapsed` hide their subtrees. */
export function visibleRows(w: Waterfall, collapsed: ReadonlySet<string>): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < w.rows.length) {
    const r = w.rows[i] as FlatSpan;
    out.push(i);
    i = collapsed.has(r.key) ? r.subtreeEnd : i + 1;
  }
  return out;
}

/** Left offset and width of a bar as fractions of the waterfall's time range (a minimum width keeps short spans visible). */
export function barGeometry(startMs: number, endMs: number, w: Pick<Waterfall, 'startMs' | 'endMs'>, minWidth = 0.002): { left: number; width: number } {
  const total = Math.max(w.endMs - w.startMs, 1e-6);
  const left = Math.min(1, Math.max(0, (startMs - w.startMs) / total));
  const width = Math.max(minWidth, Math.min(1 - left, (endMs - startMs) / total));
  return { left, width: Math.min(width, 1 - left + minWidth) };
}

/** The range of rows to draw for a scroll position (plus `overscan` rows each side). */
export function windowRange(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 10): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}

/** Layer colours (frontend, api, service, database, cache, queue, external), in the legend's order. */
export const LAYER_COLORS: Record<string, string> = {
  frontend: '#7c3aed',
  api: '#2563eb',
  service: '#0891b2',
  database: '#d97706',
  cache: '#059669',
  queue: '#db2777',
  external: '#64748b',
};
export const layerColor = (layer: string) => LAYER_COLORS[layer] ?? '#6b7280';

/** Ticks for the time axis: about `n` round values from 0 to `totalMs`. */
export function timeTicks(totalMs: number, n = 5): number[] {
  if (!(totalMs > 0)) return [0];
  const raw = totalMs / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= totalMs + 1e-9; t += step) ticks.push(t);
  return ticks;
}
