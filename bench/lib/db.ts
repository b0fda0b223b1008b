import { migrate, ensurePartitions, openPostgres, type Database } from '@flowscope/storage';
import { createTestDatabase } from '@flowscope/storage/testing';
import { decodeExport, mapExport, validateExport } from '@flowscope/collector';
import type { SpanRecord } from '@flowscope/storage';
import { makeBatch, serialize } from './workload.ts';

export interface BenchDatabase {
  url: string;
  db: Database;
  dispose(): Promise<void>;
}

/** A fresh migrated database with today's partitions (dropped by dispose). */
export async function benchDatabase(prefix: string, maxConnections = 4): Promise<BenchDatabase> {
  const t = await createTestDatabase(prefix);
  const db = openPostgres({ url: t.url, maxConnections });
  await migrate(db);
  await ensurePartitions(db);
  return {
    url: t.url,
    db,
    dispose: async () => {
      await db.close();
      await t.drop();
    },
  };
}

/**
 * The rows the collector stores for `count` spans of the workload: generated, encoded by the
 * OpenTelemetry serializer, then decoded, validated and mapped by the collector's own stages.
 */
export function workloadRecords(rand: () => number, count: number, batchSpans = 500): SpanRecord[] {
  const out: SpanRecord[] = [];
  while (out.length < count) {
    const body = serialize(makeBatch(rand, Math.min(batchSpans, count - out.length), Date.now()));
    const { valid } = validateExport(decodeExport(body, 'protobuf'));
    for (const s of mapExport(valid).spans) out.push(s);
  }
  return out;
}
