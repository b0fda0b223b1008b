import { createHash } from 'node:crypto';
import type { ErrorRecord, SpanRecord } from '@flowscope/storage';

/** Why a trace's spans were kept, dropped or held: metric labels and log fields. */
export type SampleReason = 'error' | 'slow' | 'rate' | 'decided' | 'held' | 'rate_zero';

export interface SamplerOptions {
  /** Default share of traces kept (0..1). */
  rate: number;
  /** Per workflow type overrides. */
  rates: ReadonlyMap<string, number>;
  /** Duration (ms) over which a span makes its trace interesting, by layer. */
  criticalMs: (layer: string) => number;
  /** How long spans of a not-yet-interesting trace are held in case it becomes interesting. */
  decisionWaitMs: number;
  maxHeldSpans: number;
  maxHeldBytes: number;
  /** Remembered "keep" decisions (a bounded LRU), so late spans of a kept trace are kept. */
  maxDecisions?: number;
  now?: () => number;
}

export interface SampleResult {
  keep: { spans: SpanRecord[]; errors: ErrorRecord[] };
  /** Spans of this request now held (not written unless their trace becomes interesting). */
  held: number;
  /** Spans held earlier and released now because their trace became interesting. */
  rescued: number;
  /** Traces newly decided "keep" because they are interesting (to share with replicas). */
  interesting: string[];
  reasons: Map<SampleReason, number>;
}

interface Held {
  spans: SpanRecord[];
  errors: ErrorRecord[];
  bytes: number;
  since: number;
}

/**
 * The consistent part of the decision: a hash of the trace id against the rate. Every
 * replica and every batch compute the same answer for the same trace without talking.
 * (Hashing rather than reading the id's bits keeps it fair for SDKs with non-random ids.)
 */
export function keepByRate(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const h = createHash('sha256').update(traceId).digest();
  // 48 bits of the hash as a fraction in [0, 1).
  return h.readUIntBE(0, 6) / 2 ** 48 < rate;
}

const spanBytes = (s: SpanRecord) => 400 + JSON.stringify(s.attributes).length + (s.events.length > 0 ? JSON.stringify(s.events).length : 0);

/**
 * Workflow-aware tail sampling. A trace is kept when its hash falls under the rate of its
 * workflow type, or whole when any span is an error or over its layer's critical threshold.
 * Spans of a trace that is neither (yet) are held for decisionWaitMs; if the trace becomes
 * interesting they are released and written, otherwise they expire as sampled out. Held
 * spans are bounded in count and bytes: past the bound the oldest traces are let go (counted).
 */
export class TailSampler {
  private readonly held = new Map<string, Held>();
  private heldSpans = 0;
  private heldBytes = 0;
  private readonly decided = new Map<string, true>();
  private readonly now: () => number;

  /** Called with the number of spans let go from the hold (expired or evicted). */
  onReleased: (spans: number, why: 'expired' | 'evicted') => void = () => {};

  constructor(private readonly options: SamplerOptions) {
    this.now = options.now ?? Date.now;
  }

  get heldSpanCount(): number {
    return this.heldSpans;
  }

  get heldByteCount(): number {
    return this.heldBytes;
  }

  rateFor(workflowType: string): number {
    return this.options.rates.get(workflowType) ?? this.options.rate;
  }

  private remember(traceId: string): void {
    this.decided.delete(traceId);
    this.decided.set(traceId, true);
    const max = this.options.maxDecisions ?? 100_000;
    if (this.decided.size > max) this.decided.delete(this.decided.keys().next().value!);
  }

  isDecidedKeep(traceId: string): boolean {
    return this.decided.has(traceId);
  }

  /**
   * A keep decision made elsewhere (another replica): remember it and return the spans held
   * here for that trace, to be written.
   */
  markKeep(traceId: string): { spans: SpanRecord[]; errors: ErrorRecord[] } | undefined {
    this.remember(traceId);
    return this.release(traceId);
  }

  private release(traceId: string): Held | undefined {
    const h = this.held.get(traceId);
    if (!h) return undefined;
    this.held.delete(traceId);
    this.heldSpans -= h.spans.length;
    this.heldBytes -= h.bytes;
    return h;
  }

  sample(spans: readonly SpanRecord[], errors: readonly ErrorRecord[]): SampleResult {
    this.expire();
    const byTrace = new Map<string, { spans: SpanRecord[]; errors: ErrorRecord[] }>();
    for (const s of spans) {
      let t = byTrace.get(s.traceId);
      if (!t) byTrace.set(s.traceId, (t = { spans: [], errors: [] }));
      t.spans.push(s);
    }
    for (const e of errors) byTrace.get(e.traceId)?.errors.push(e);

    const result: SampleResult = {
      keep: { spans: [], errors: [] },
      held: 0,
      rescued: 0,
      interesting: [],
      reasons: new Map(),
    };
    const count = (r: SampleReason, n: number) => result.reasons.set(r, (result.reasons.get(r) ?? 0) + n);
    const keep = (t: { spans: SpanRecord[]; errors: ErrorRecord[] }) => {
      result.keep.spans.push(...t.spans);
      result.keep.errors.push(...t.errors);
    };

    for (const [traceId, t] of byTrace) {
      let reason: SampleReason | undefined;
      if (t.spans.some((s) => s.isError)) reason = 'error';
      else if (t.spans.some((s) => Number(s.endUnixNano - s.startUnixNano) / 1e6 > this.options.criticalMs(s.layer))) reason = 'slow';
      if (reason) {
        if (!this.decided.has(traceId)) result.interesting.push(traceId);
        this.remember(traceId);
        const earlier = this.release(traceId);
        if (earlier) {
          result.rescued += earlier.spans.length;
          keep(earlier);
        }
      } else if (this.decided.has(traceId)) {
        reason = 'decided';
      } else {
        const type = t.spans.find((s) => s.workflowType !== 'unknown')?.workflowType ?? 'unknown';
        if (keepByRate(traceId, this.rateFor(type))) {
          reason = 'rate';
          this.remember(traceId);
        }
      }
      if (reason) {
        keep(t);
        count(reason, t.spans.length);
        continue;
      }
      // Not interesting (yet): hold.
      const bytes = t.spans.reduce((n, s) => n + spanBytes(s), 0);
      let h = this.held.get(traceId);
      if (!h) this.held.set(traceId, (h = { spans: [], errors: [], bytes: 0, since: this.now() }));
      h.spans.push(...t.spans);
      h.errors.push(...t.errors);
      h.bytes += bytes;
      this.heldSpans += t.spans.length;
      this.heldBytes += bytes;
      result.held += t.spans.length;
      count('held', t.spans.length);
    }
    this.evict();
    return result;
  }

  /** Lets go of traces held longer than the decision window. Returns how many spans. */
  expire(): number {
    const cutoff = this.now() - this.options.decisionWaitMs;
    let n = 0;
    for (const [traceId, h] of this.held) {
      if (h.since > cutoff) break; // insertion order is age order
      this.release(traceId);
      n += h.spans.length;
    }
    if (n > 0) this.onReleased(n, 'expired');
    return n;
  }

  private evict(): void {
    let n = 0;
    for (const [traceId, h] of this.held) {
      if (this.heldSpans <= this.options.maxHeldSpans && this.heldBytes <= this.options.maxHeldBytes) break;
      this.release(traceId);
      n += h.spans.length;
    }
    if (n > 0) this.onReleased(n, 'evicted');
  }

  /** Drops everything held (shutdown: held spans were never promised storage). */
  clear(): number {
    const n = this.heldSpans;
    this.held.clear();
    this.heldSpans = 0;
    this.heldBytes = 0;
    return n;
  }
}
