import { getHeapStatistics } from 'node:v8';
import { errors } from '@flowscope/common';

/**
 * The memory limiter: a bound on request body bytes held at once across all requests
 * (compressed bytes read plus decompressed bytes produced). A request that would pass the
 * bound is refused with a retryable 503 instead of growing the heap.
 */
export class InflightBytes {
  private used = 0;

  private readonly heapLimit: number;

  constructor(
    readonly limit: number,
    private readonly retryAfterSeconds: number,
    private readonly onChange: (used: number) => void = () => {},
    /** Heap bound in bytes (0: 80 % of V8's heap limit). */
    heapLimitBytes = 0,
    private readonly heapUsed: () => number = () => process.memoryUsage().heapUsed,
  ) {
    this.heapLimit = heapLimitBytes > 0 ? heapLimitBytes : getHeapStatistics().heap_size_limit * 0.8;
  }

  /** Refuses a new request while the heap is over its bound (checked once per request). */
  admit(): void {
    if (this.heapUsed() > this.heapLimit) throw errors.memoryLimit(this.retryAfterSeconds);
  }

  get current(): number {
    return this.used;
  }

  /** Takes n bytes or throws the memory-limit error (nothing taken). */
  acquire(n: number): void {
    if (this.used + n > this.limit) throw errors.memoryLimit(this.retryAfterSeconds);
    this.used += n;
    this.onChange(this.used);
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
    this.onChange(this.used);
  }

  /** A per-request account of what that request holds; see {@link InflightLease}. */
  lease(): InflightLease {
    return new InflightLease(this);
  }
}

/**
 * What one request holds in the limiter. Every byte taken is given back exactly once by
 * end(), however late chunks arrive (a decompressor can still emit after the response closed):
 * after end(), take() refuses, so nothing is taken that would never be returned.
 */
export class InflightLease {
  private held = 0;

  private ended = false;

  constructor(private readonly limiter: InflightBytes) {}

  get bytes(): number {
    return this.held;
  }

  /** Takes n more bytes for this request, or throws (the memory-limit error, or ended). */
  take(n: number): void {
    if (this.ended) throw new Error('in-flight lease already ended');
    this.limiter.acquire(n);
    this.held += n;
  }

  /** Gives back some bytes this request no longer holds (never more than it holds). */
  give(n: number): void {
    const k = Math.min(n, this.held);
    if (k <= 0) return;
    this.held -= k;
    this.limiter.release(k);
  }

  /** Gives back everything; later take() calls throw. Safe to call more than once. */
  end(): void {
    this.ended = true;
    this.give(this.held);
  }
}
