import { errors } from '@flowscope/common';

/**
 * The memory limiter: a bound on request body bytes held at once across all requests
 * (compressed bytes read plus decompressed bytes produced). A request that would pass the
 * bound is refused with a retryable 503 instead of growing the heap.
 */
export class InflightBytes {
  private used = 0;

  constructor(
    readonly limit: number,
    private readonly retryAfterSeconds: number,
    private readonly onChange: (used: number) => void = () => {},
  ) {}

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
}
