/**
 * Span-tree analysis for one workflow: the tree, time per layer (self time) and the
 * critical path. Pure functions over microsecond intervals; the REST layer feeds them rows.
 */

export interface SpanNodeInput {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  layer: string;
  component: string;
  /** Microseconds since the epoch. */
  start_us: number;
  end_us: number;
}

export interface SpanNode<S extends SpanNodeInput = SpanNodeInput> {
  span: S;
  /** Duration minus the time covered by its children (union of their intervals, clipped to it). */
  self_us: number;
  children: SpanNode<S>[];
}

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

/**
 * Builds the forest: a span whose parent is not among `spans` (a root, or an orphan whose
 * parent was sampled out or has not arrived) becomes a root. Children are ordered by start.
 */
export function buildTree<S extends SpanNodeInput>(spans: readonly S[]): SpanNode<S>[] {
  const nodes = new Map<string, SpanNode<S>>();
  for (const span of spans) nodes.set(key(span.trace_id, span.span_id), { span, self_us: 0, children: [] });
  const roots: SpanNode<S>[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parent_span_id ? nodes.get(key(node.span.trace_id, node.span.parent_span_id)) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: SpanNode<S>, b: SpanNode<S>) =>
    a.span.start_us - b.span.start_us || a.span.end_us - b.span.end_us || (a.span.span_id < b.span.span_id ? -1 : 1);
  // Iterative walk: a deep chain of spans must not overflow the stack.
  const stack = [...roots];
  while (stack.length > 0) {
    const node = stack.pop()!;
    node.children.sort(byStart);
    node.self_us = selfTime(node);
    stack.push(...node.children);
  }
  roots.sort(byStart);
  return roots;
}

function selfTime(node: SpanNode): number {
  const { start_us: start, end_us: end } = node.span;
  let covered = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  // children are sorted by start: merge their clipped intervals.
  for (const c of node.children) {
    const s = Math.max(c.span.start_us, start);
    const e = Math.min(c.span.end_us, end);
    if (e <= s) continue;
    if (s > curEnd) {
      if (curEnd > curStart) covered += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) {
      curEnd = e;
    }
  }
  if (curEnd > curStart) covered += curEnd - curStart;
  return Math.max(0, end - start - covered);
}

export const walk = <S extends SpanNodeInput>(roots: readonly SpanNode<S>[], fn: (n: SpanNode<S>) => void) => {
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const n = stack.pop()!;
    fn(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
};

export interface LayerTime {
  layer: string;
  self_ms: number;
  span_count: number;
  /** Share of the summed self time of all layers (0..1). */
  share: number;
}

/** Self time summed per layer, largest first. */
export function layerBreakdown(roots: readonly SpanNode[]): LayerTime[] {
  const by = new Map<string, { self: number; n: number }>();
  let total = 0;
  walk(roots, (n) => {
    const e = by.get(n.span.layer) ?? { self: 0, n: 0 };
    e.self += n.self_us;
    e.n += 1;
    total += n.self_us;
    by.set(n.span.layer, e);
  });
  return [...by.entries()]
    .map(([layer, e]) => ({ layer, self_ms: e.self / 1000, span_count: e.n, share: total > 0 ? e.self / total : 0 }))
    .sort((a, b) => b.self_ms - a.self_ms || (a.layer < b.layer ? -1 : 1));
}

export interface CriticalSegment {
  /** null for time between the traces of a workflow (no span was running on the path). */
  trace_id: string | null;
  span_id: string | null;
  name: string | null;
  layer: string | null;
  component: string | null;
  start_us: number;
  end_us: number;
}

/**
 * The critical path, as Jaeger computes it: from the end of a span, walk back through the
 * child that finished last before the current point, descend into it, then continue from the
 * point where it started. Children are clipped to their parent; children that start after
 * their parent ended (fire-and-forget work) are not on the parent's path. Several roots (a
 * workflow made of several traces) hang under a virtual root spanning them all; time between
 * them appears as segments without a span. Segments come back in time order.
 *
 * Real clocks: SDKs round start times (often to the millisecond) and hosts drift, so a child
 * can appear to end a little after the next sibling (or its parent's next step) started.
 * Jaeger's rule "the last child that finished before the current point" drops such a child
 * from the path. Here a child that ends up to `toleranceUs` after the current point still
 * qualifies; its overlap is clipped, so the path stays a partition of the workflow's time.
 */
export const DEFAULT_OVERLAP_TOLERANCE_US = 1000;

export function criticalPath(roots: readonly SpanNode[], toleranceUs = DEFAULT_OVERLAP_TOLERANCE_US): CriticalSegment[] {
  if (roots.length === 0) return [];
  type Frame = { node: SpanNode | null; start: number; end: number; cursor: number; kids: SpanNode[]; next: number };
  const frame = (node: SpanNode | null, start: number, end: number, kids: readonly SpanNode[]): Frame => ({
    node,
    start,
    end,
    cursor: end,
    // last-finishing first; ties: the later start first (shorter, more specific)
    kids: kids
      .filter((k) => k.span.start_us < end && k.span.end_us > start)
      .sort((a, b) => Math.min(b.span.end_us, end) - Math.min(a.span.end_us, end) || b.span.start_us - a.span.start_us),
    next: 0,
  });
  const start = Math.min(...roots.map((r) => r.span.start_us));
  const end = Math.max(...roots.map((r) => r.span.end_us));
  const segments: CriticalSegment[] = [];
  const emit = (f: Frame, s: number, e: number) => {
    if (e <= s) return;
    const sp = f.node?.span;
    segments.push({
      trace_id: sp?.trace_id ?? null,
      span_id: sp?.span_id ?? null,
      name: sp?.name ?? null,
      layer: sp?.layer ?? null,
      component: sp?.component ?? null,
      start_us: s,
      end_us: e,
    });
  };
  const stack: Frame[] = [roots.length === 1 ? frame(roots[0]!, start, end, roots[0]!.children) : frame(null, start, end, roots)];
  while (stack.length > 0) {
    const f = stack.at(-1)!;
    let child: SpanNode | undefined;
    while (f.next < f.kids.length) {
      const k = f.kids[f.next++]!;
      if (Math.min(k.span.end_us, f.end) <= f.cursor + toleranceUs && k.span.start_us < f.cursor) {
        child = k;
        break;
      }
    }
    if (child) {
      const cEnd = Math.min(child.span.end_us, f.end, f.cursor);
      const cStart = Math.max(child.span.start_us, f.start);
      emit(f, cEnd, f.cursor);
      f.cursor = cStart;
      stack.push(frame(child, cStart, cEnd, child.children));
    } else {
      emit(f, f.start, f.cursor);
      stack.pop();
    }
  }
  return segments.reverse();
}
