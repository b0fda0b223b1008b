import type { Logger } from 'pino';
import { errors } from '@flowscope/common';
import {
  applyFlushCounts,
  classifyDbError,
  claimReceipts,
  foldPendingOperations,
  foldPendingSnapshots,
  withHourRows,
  writeOperationDeltas,
  dbErrorCode,
  isConnectionError,
  storageErrorFor,
  writeSnapshotDeltas,
  writeSpanBatch,
  type Database,
  type ErrorRecord,
  type OperationDelta,
  type SnapshotDelta,
  type SpanObservation,
  type SpanRecord,
  type WriteResult,
} from '@flowscope/storage';
import { mergeDeltas } from './deltas.ts';
import { mergeOperationDeltas } from './opstats.ts';
import type { CollectorMetrics } from './metrics.ts';

export interface WriterOptions {
  /** Most spans committed in one transaction. */
  maxBatchSpans: number;
  /** Most spans waiting at once; past it, submit() refuses with a retryable 429. */
  maxQueueSpans: number;
  /** How long a flush waits for more requests to join it (0: flush as soon as idle). */
  lingerMs: number;
  /** Retry-After for refusals, and the probe interval while storage is down. */
  retryAfterSeconds: number;
  /**
   * How often pending per-operation rows (one per flush) are folded into operation_stats, in ms;
   * 0: never in the background (close() still folds). Readers count pending rows, so this only
   * bounds how many of them they add up.
   */
  foldIntervalMs?: number;
  /** Most pending rows one fold transaction takes (a fold that takes as many goes on at once). */
  foldMaxRows?: number;
  /** Fold as soon as this writer has committed this many pending rows since its last fold (0: only by time). */
  foldAfterRows?: number;
  /**
   * Most flush transactions in flight at once (default 1: one flush at a time). Each holds a
   * database connection while it runs, so the pool needs more connections than this.
   */
  concurrency?: number;
}

/** Bounds of WriterOptions.concurrency (FLOWSCOPE_WRITER_CONCURRENCY). */
export const WRITER_CONCURRENCY_MAX = 64;

/** What one request (or one release of held spans) asks the writer to commit. */
export interface WriteItem {
  /** Spans to store (sampling kept them). */
  spans: readonly SpanRecord[];
  errors: readonly ErrorRecord[];
  /** Every span of the request, kept or not: counted in workflow_sessions. */
  observations?: readonly SpanObservation[];
  /** Span metrics of every span of the request. */
  deltas?: readonly SnapshotDelta[];
  /** Per-operation statistics (baselines) of every span of the request. */
  opDeltas?: readonly OperationDelta[];
  /**
   * Hash of the request body. Observations and deltas of a request whose receipt was
   * committed before (an exporter retry) are not applied again.
   */
  receipt?: string;
}

export interface ItemResult extends WriteResult {
  /** The request was committed before: nothing of it was counted again. */
  duplicateRequest: boolean;
}

interface Pending {
  item: WriteItem;
  size: number;
  resolve(r: ItemResult): void;
  reject(e: unknown): void;
}

const codeOf = dbErrorCode;

/** Attempts of one flush transaction when PostgreSQL asks for a retry (deadlock, serialization failure). */
const MAX_ATTEMPTS = 5;

/**
 * What applyFlushCounts applies for these items (their receipts given separately); the sessions
 * of the flush's stored spans are marked kept there too (not by the spans' move: one sorted pass).
 */
const flushCounts = (items: readonly WriteItem[], receipts: readonly string[], stored: readonly SpanRecord[]) => ({
  receipts,
  stored,
  observations: items.flatMap((i) => i.observations ?? []),
  snapshots: mergeDeltas(items.flatMap((i) => i.deltas ?? [])),
  operations: mergeOperationDeltas(items.flatMap((i) => i.opDeltas ?? [])),
});

/** The request's counts include deltas that the counts statement records as pending rows. */
const hasPendingRows = (i: WriteItem) => Boolean(i.opDeltas?.length || i.deltas?.length);

/** A flush holds a request committed before: its counts must not be applied again. */
class RetriedRequest extends Error {}

/** Kept for callers of the collector package; the classification lives in storage. */
export { isConnectionError };

/**
 * Group commit. Spans of concurrent requests are written together: while `concurrency`
 * transactions (1 by default) are committing, new requests queue, and the next flush to start
 * takes them all (up to maxBatchSpans). Exactly-once counting holds across concurrent flushes:
 * two copies of one request in two flushes insert the same receipt, so the second waits for
 * the first to commit, finds the receipt taken and counts nothing of its copy.
 *
 * Contract: submit() resolves only after the request's spans are committed (or were already
 * stored), so a 2xx built on it is a promise that survives kill -9. It rejects with a
 * retryable FlowscopeError (429 queue full, 503 storage down or shutting down) or with a
 * permanent 400 when storage refuses this request's own data. Memory is bounded: at most
 * maxQueueSpans spans (plus one request) wait at any time.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  /** Spans submitted and not yet answered (waiting in the queue or in a flush). */
  private queued = 0;
  /** Spans waiting in the queue (not yet taken by a flush). */
  private waiting = 0;
  /** Flush transactions in flight (at most concurrency). */
  private inFlight = 0;
  private readonly concurrency: number;
  private closed = false;
  private downSince: number | undefined;
  private probe: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  private linger: NodeJS.Timeout | undefined;
  /** The last fused attempt found a retried request: write this flush the careful way. */
  private retryInFlush = false;
  private foldTimer: NodeJS.Timeout | undefined;
  private folding: Promise<void> | undefined;
  /** Pending rows this writer committed since its last fold began. */
  private pendingSinceFold = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: WriterOptions,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
    /** Called after each commit with the sessions it created or changed (live events). */
    private readonly onCommit: (result: WriteResult) => void = () => {},
  ) {
    const c = options.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1 || c > WRITER_CONCURRENCY_MAX) {
      throw new RangeError(`writer concurrency must be an integer between 1 and ${WRITER_CONCURRENCY_MAX}, got ${c}`);
    }
    this.concurrency = c;
    metrics.storageUp.set(1);
    this.scheduleFold();
  }

  private scheduleFold(): void {
    const every = this.options.foldIntervalMs ?? 0;
    if (every <= 0 || this.closed) return;
    this.foldTimer = setTimeout(() => this.startFold(), every);
    this.foldTimer.unref();
  }

  /** Folds now (unless a fold is running), then waits foldIntervalMs for the next one. */
  private startFold(): void {
    if (this.folding || this.closed) return;
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.foldTimer = undefined;
    this.pendingSinceFold = 0;
    // While storage is down the writer's probe watches it; pending rows wait where they are.
    this.folding = (this.downSince === undefined ? this.foldAll() : Promise.resolve()).finally(() => {
      this.folding = undefined;
      this.scheduleFold();
    });
  }

  /**
   * Folds pending per-operation rows into operation_stats until a fold takes fewer than foldMaxRows
   * (its own and those of collectors that stopped before folding theirs). A failure is logged and
   * left for the next fold: the rows stay pending, and readers count them there.
   */
  private async foldAll(toTheEnd = false): Promise<void> {
    const max = this.options.foldMaxRows ?? 1000;
    const end = this.metrics.baselineFoldDuration.startTimer();
    try {
      for (;;) {
        const rows = await foldPendingOperations(this.db, max);
        this.metrics.baselineFoldedRows.inc(rows);
        if (rows < max || !(toTheEnd || !this.closed)) break;
      }
      this.metrics.baselineFolds.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.baselineFolds.inc({ result: 'failed' });
      this.logger.warn({ err: String((err as Error)?.message ?? err), code: codeOf(err) }, 'could not fold pending operation statistics; will retry');
    } finally {
      end();
    }
    const endSnapshots = this.metrics.snapshotFoldDuration.startTimer();
    try {
      for (;;) {
        const rows = await foldPendingSnapshots(this.db, max);
        this.metrics.snapshotFoldedRows.inc(rows);
        if (rows < max || !(toTheEnd || !this.closed)) break;
      }
      this.metrics.snapshotFolds.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.snapshotFolds.inc({ result: 'failed' });
      this.logger.warn({ err: String((err as Error)?.message ?? err), code: codeOf(err) }, 'could not fold pending snapshot rows; will retry');
    } finally {
      endSnapshots();
    }
  }

  get queuedSpans(): number {
    return this.queued;
  }

  get storageAvailable(): boolean {
    return this.downSince === undefined;
  }

  submit(item: WriteItem): Promise<ItemResult> {
    if (this.closed) return Promise.reject(errors.shuttingDown());
    if (this.downSince !== undefined) return Promise.reject(errors.storageUnavailable(this.options.retryAfterSeconds));
    // A request's size is its span count (every span is observed; kept ones are also stored).
    const size = Math.max(item.spans.length, item.observations?.length ?? 0);
    if (size === 0 && item.errors.length === 0 && !item.deltas?.length) {
      return Promise.resolve({ inserted: 0, duplicates: 0, duplicateRequest: false });
    }
    if (this.queued > 0 && this.queued + size > this.options.maxQueueSpans) {
      return Promise.reject(errors.queueFull(this.options.retryAfterSeconds));
    }
    return new Promise<ItemResult>((resolve, reject) => {
      this.queue.push({ item, size, resolve, reject });
      this.queued += size;
      this.waiting += size;
      this.metrics.queuedSpans.set(this.queued);
      this.kick();
    });
  }

  private kick(): void {
    if (this.linger || this.inFlight >= this.concurrency) return;
    if (this.options.lingerMs > 0 && this.waiting < this.options.maxBatchSpans) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        this.startFlushes();
      }, this.options.lingerMs);
      return;
    }
    this.startFlushes();
  }

  /** Starts flush loops while there are free slots and requests waiting. */
  private startFlushes(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) void this.flushLoop();
  }

  /**
   * One flush slot: takes what is queued (up to maxBatchSpans) synchronously, commits it, and
   * goes on while requests wait. Up to `concurrency` of these run at once, each in its own
   * transaction; the statements apply their rows in key order (see storage) so that concurrent
   * flushes of the same sessions and snapshot rows wait for one another instead of deadlocking.
   */
  private async flushLoop(): Promise<void> {
    this.inFlight++;
    this.metrics.flushesInFlight.set(this.inFlight);
    try {
      while (this.queue.length > 0) {
        const group: Pending[] = [];
        let n = 0;
        while (this.queue.length > 0 && (group.length === 0 || n + this.queue[0]!.size <= this.options.maxBatchSpans)) {
          const p = this.queue.shift()!;
          group.push(p);
          n += p.size;
        }
        this.waiting -= n;
        await this.commitGroup(group);
        this.queued -= n;
        this.metrics.queuedSpans.set(this.queued);
      }
    } finally {
      this.inFlight--;
      this.metrics.flushesInFlight.set(this.inFlight);
      if (this.inFlight === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    try {
      const { result, counted } = await this.write(group.map((g) => g.item));
      try {
        this.onCommit(result);
      } catch (err) {
        this.logger.warn({ err: String(err) }, 'commit listener failed');
      }
      for (const g of group) {
        g.resolve({ ...result, duplicateRequest: !counted.has(g.item) });
      }
    } catch (err) {
      if (isConnectionError(err)) {
        this.markDown(err);
        const e = errors.storageUnavailable(this.options.retryAfterSeconds, err);
        for (const g of group) g.reject(e);
        // Everything still queued would fail the same way: answer it now.
        for (const p of this.queue.splice(0)) {
          this.queued -= p.size;
          this.waiting -= p.size;
          p.reject(e);
        }
        this.metrics.queuedSpans.set(this.queued);
        return;
      }
      if (group.length > 1) {
        // One request's data made the transaction fail: write each alone so only it is refused.
        for (const g of group) await this.commitGroup([g]);
        return;
      }
      this.logger.warn({ err: String((err as Error).message ?? err), code: codeOf(err) }, 'storage refused a batch');
      group[0]!.reject(storageErrorFor(err, this.options.retryAfterSeconds));
    }
  }

  /**
   * Commits one flush. Returns the items whose counts were applied: a request whose receipt was
   * committed before, or that is a second copy of another request of this flush (an exporter's
   * retry queued while its first copy still waited), is stored (idempotently) but not counted.
   */
  private async write(items: WriteItem[]): Promise<{ result: WriteResult; counted: Set<WriteItem> }> {
    const spans = items.flatMap((i) => i.spans);
    const errs = items.flatMap((i) => i.errors);
    const firsts = new Map<string, WriteItem>();
    for (const i of items) if (i.receipt !== undefined && !firsts.has(i.receipt)) firsts.set(i.receipt, i);
    // Counted at most once: items without a receipt, and the first copy of each receipt.
    const once = items.filter((i) => i.receipt === undefined || firsts.get(i.receipt) === i);
    const receipts = [...firsts.keys()];
    const observationMode = items.some((i) => i.observations !== undefined);
    const end = this.metrics.writeDuration.startTimer();
    for (let attempt = 1; ; attempt++) {
      try {
        const fast = observationMode && !this.retryInFlush ? await this.writeFused(once, spans, errs, receipts) : undefined;
        const done = fast ?? await this.db.transaction(async (tx) => {
          if (observationMode) {
            // The fused path's order (spans, receipts, counts), so that both take their row locks
            // in the same order; the receipts, claimed first, decide which requests' counts are
            // applied (exactly once).
            const r = await writeSpanBatch(tx, { spans, errors: errs, observations: [], keepMarkedByCounts: true });
            const fresh = await claimReceipts(tx, receipts);
            const counted = once.filter((i) => i.receipt === undefined || fresh.has(i.receipt));
            const counts = await applyFlushCounts(tx, flushCounts(counted, [], spans));
            return { result: { ...r, transitions: counts.transitions }, counted: new Set(counted), pending: counted.some(hasPendingRows) };
          }
          // Receipts first: they decide which requests' counts are applied (exactly once).
          const fresh = await claimReceipts(tx, receipts);
          const counted = once.filter((i) => i.receipt === undefined || fresh.has(i.receipt));
          const r = await writeSpanBatch(tx, { spans, errors: errs });
          await writeSnapshotDeltas(tx, mergeDeltas(counted.flatMap((i) => i.deltas ?? [])));
          await writeOperationDeltas(tx, withHourRows(mergeOperationDeltas(counted.flatMap((i) => i.opDeltas ?? []))));
          return { result: r, counted: new Set(counted), pending: false };
        });
        this.retryInFlush = false;
        end();
        if (done.pending) this.pendingRowWritten();
        this.metrics.writeBatchSpans.observe(spans.length);
        this.metrics.stored.inc(done.result.inserted);
        this.metrics.duplicates.inc(done.result.duplicates);
        return { result: done.result, counted: done.counted };
      } catch (err) {
        if (classifyDbError(err) === 'retry' && attempt < MAX_ATTEMPTS) {
          // A deadlock or serialization failure rolled the whole transaction back: run it again.
          this.metrics.writeRetries.inc({ code: codeOf(err) });
          continue;
        }
        throw err;
      }
    }
  }

  /** A flush recorded one pending per-operation row: fold once foldAfterRows of them were written. */
  private pendingRowWritten(): void {
    this.pendingSinceFold++;
    const after = this.options.foldAfterRows ?? 0;
    if (after > 0 && this.pendingSinceFold >= after) this.startFold();
  }

  /**
   * A flush whose requests are all new (the common case): the receipts, the sessions of every
   * span (kept or sampled out), the snapshot and per-operation deltas in one statement
   * (applyFlushCounts), then the kept spans and their errors. Sampled-out traces thus cost their
   * share of one statement per flush, not statements of their own. If a request of the flush
   * was committed before (an exporter's retry, perhaps by a concurrent flush that committed
   * while this one waited for its receipt), the transaction is rolled back and the flush is
   * written the careful way (receipts first, then only the new requests' counts).
   */
  private async writeFused(once: WriteItem[], spans: SpanRecord[], errs: ErrorRecord[], receipts: string[]) {
    try {
      return await this.db.transaction(async (tx) => {
        // Spans first, counts last: the counts statement takes the row locks every flush wants
        // (the current minute's snapshot rows, and the sessions), so it runs right before the
        // commit, and concurrent flushes wait for one another only there.
        const r = await writeSpanBatch(tx, { spans, errors: errs, observations: [], keepMarkedByCounts: true });
        const counts = await applyFlushCounts(tx, flushCounts(once, receipts, spans));
        if (counts.fresh.size < receipts.length) throw new RetriedRequest();
        return { result: { ...r, transitions: counts.transitions }, counted: new Set(once), pending: once.some(hasPendingRows) };
      });
    } catch (err) {
      if (!(err instanceof RetriedRequest)) throw err;
      this.retryInFlush = true;
      return undefined;
    }
  }

  private markDown(err: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.metrics.storageUp.set(0);
    this.logger.error({ err: String((err as Error)?.message ?? err), code: codeOf(err) }, 'storage unavailable; refusing writes until it answers');
    const every = Math.max(250, Math.min(this.options.retryAfterSeconds * 1000, 2000));
    this.probe = setInterval(() => {
      this.db.ping(every).then(
        () => {
          if (this.downSince === undefined) return;
          this.logger.info({ downMs: Date.now() - this.downSince }, 'storage is back; accepting writes');
          this.downSince = undefined;
          this.metrics.storageUp.set(1);
          clearInterval(this.probe);
          this.probe = undefined;
        },
        () => {},
      );
    }, every);
    this.probe.unref();
  }

  /**
   * Stops accepting, waits for queued writes to finish, then folds what is pending into
   * operation_stats (while storage answers). Safe to call twice (both calls resolve when all of
   * it is done) and before any submit.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.linger) {
        clearTimeout(this.linger);
        this.linger = undefined;
        this.startFlushes();
      }
      if (this.probe) clearInterval(this.probe);
      this.probe = undefined;
      if (this.foldTimer) clearTimeout(this.foldTimer);
      this.foldTimer = undefined;
      // Every flush in flight is committed (or refused) and answered before the fold.
      if (this.inFlight > 0 || this.queue.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      await this.folding;
      if (this.downSince === undefined) await this.foldAll(true);
    })();
    return this.closing;
  }
}
