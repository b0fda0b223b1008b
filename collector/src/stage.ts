import type { Counter } from 'prom-client';

/**
 * The collector's stage contract, in the manner of the OpenTelemetry Collector's processors.
 * A stage takes a batch and returns either the batch for the next stage (possibly with some of
 * its spans dropped, with a reason) or a drop of the whole batch, with a reason. Stages do not
 * count spans in, out or refused: the chain does, so every stage is counted the same way.
 */

/** What every batch carries: the number of spans it holds (what is acknowledged if it ends). */
export interface Batch {
  readonly spanCount: number;
}

/**
 * Spans a stage let go. With an `error` the spans (or the whole request) are refused: the chain
 * counts them under `reason` and throws the error for the receiver to answer with. Without one
 * they are acknowledged: counted as accepted and not passed on.
 */
export interface Drop {
  readonly reason: string;
  readonly spans: number;
  readonly error?: unknown;
}

/**
 * A stage's answer: the batch for the next stage, with the spans it refused on the way
 * (`dropped`, counted under their reason), or a drop of the whole batch.
 */
export type StageResult<O> = { readonly batch: O; readonly dropped?: Drop } | { readonly drop: Drop };

export interface Stage<I, O> {
  /** For logs and tests. */
  readonly name: string;
  process(batch: I): StageResult<O> | Promise<StageResult<O>>;
}

/** Passes `batch` on; `dropped` names the spans refused on the way (e.g. invalid ones). */
export const pass = <O>(batch: O, dropped?: Drop): StageResult<O> => (dropped && dropped.spans > 0 ? { batch, dropped } : { batch });

/** Ends the batch here: refused when `error` is given, else acknowledged. */
export const drop = (reason: string, spans: number, error?: unknown): StageResult<never> => ({
  drop: error === undefined ? { reason, spans } : { reason, spans, error },
});

/** How a chain ran: to its end, or stopped by an acknowledged drop at the batch `at`. */
export type ChainResult<B, O> = { readonly batch: O } | { readonly drop: Drop; readonly at: B };

/** What the chain counts: spans in, spans refused by reason, spans acknowledged. */
export interface ChainCounters {
  received: Pick<Counter, 'inc'>;
  refused: Pick<Counter<'reason'>, 'inc'>;
  accepted: Pick<Counter, 'inc'>;
}

/**
 * Runs stages in order. Counts every span that enters as received; spans a stage refuses
 * under their reason; the spans of a batch that reaches the end (or is dropped without an
 * error) as accepted. A drop with an error is counted, then thrown. `B` is what every batch of
 * the chain has in common (what an acknowledged drop reports).
 */
export class Chain<B extends Batch, I extends B, O extends B> {
  private constructor(
    private readonly counters: ChainCounters,
    private readonly stages: ReadonlyArray<Stage<B, B>>,
  ) {}

  static start<B extends Batch, I extends B = B>(counters: ChainCounters): Chain<B, I, I> {
    return new Chain<B, I, I>(counters, []);
  }

  then<N extends B>(stage: Stage<O, N>): Chain<B, I, N> {
    return new Chain<B, I, N>(this.counters, [...this.stages, stage as unknown as Stage<B, B>]);
  }

  get names(): string[] {
    return this.stages.map((s) => s.name);
  }

  async run(input: I): Promise<ChainResult<B, O>> {
    const { received, refused, accepted } = this.counters;
    received.inc(input.spanCount);
    let batch: B = input;
    for (const stage of this.stages) {
      const r = await stage.process(batch);
      if ('drop' in r) {
        const { reason, spans, error } = r.drop;
        if (error !== undefined) {
          if (spans > 0) refused.inc({ reason }, spans);
          throw error;
        }
        accepted.inc(spans);
        return { drop: r.drop, at: batch };
      }
      if (r.dropped && r.dropped.spans > 0) refused.inc({ reason: r.dropped.reason }, r.dropped.spans);
      batch = r.batch;
    }
    accepted.inc(batch.spanCount);
    return { batch: batch as O };
  }
}
