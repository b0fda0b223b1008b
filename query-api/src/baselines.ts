import { operationKey, readOperationStats, type Database } from '@flowscope/storage';
import type { BaselineLookup, OperationBaseline } from './suspects.ts';

const HOUR = 3_600_000;

/**
 * Per-operation baselines for the suspects of a workflow: p50/p95 of each operation's
 * duration over the `windowHours` hours before the workflow's hour (its own hour included),
 * from the hour rows of operation_stats. Reads are cached per workflow type and hour for
 * `cacheMs` so a busy page does not re-read them for every workflow.
 */
export class Baselines {
  private readonly cache = new Map<string, { at: number; map: Map<string, OperationBaseline> }>();

  constructor(
    private readonly db: Database,
    private readonly windowHours: number,
    private readonly cacheMs: number,
    private readonly maxEntries = 1000,
  ) {}

  async lookup(workflowTypes: readonly string[], atMs: number): Promise<BaselineLookup> {
    const toMs = (Math.floor(atMs / HOUR) + 1) * HOUR;
    const maps = await Promise.all([...new Set(workflowTypes)].map((t) => this.forType(t, toMs)));
    const merged = new Map<string, OperationBaseline>();
    for (const m of maps) for (const [k, v] of m) merged.set(k, v);
    return (type, layer, component, operation) => merged.get(operationKey(type, layer, component, operation));
  }

  private async forType(workflowType: string, toMs: number): Promise<Map<string, OperationBaseline>> {
    const key = `${workflowType}\u0000${toMs}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.map;
    const stats = await readOperationStats(this.db, { fromMs: toMs - this.windowHours * HOUR, toMs, workflowTypes: [workflowType] });
    const map = new Map<string, OperationBaseline>();
    for (const s of stats) {
      if (s.p50Ms === null || s.p95Ms === null) continue;
      map.set(operationKey(s.workflowType, s.layer, s.component, s.operation), { p50_ms: s.p50Ms, p95_ms: s.p95Ms, count: s.count });
    }
    if (this.cacheMs > 0) {
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { at: Date.now(), map });
    }
    return map;
  }
}
