import type { FastifyInstance } from 'fastify';
import { SNAPSHOT_GROUPS, emptyBuckets, quantile, snapshotSeries, type Database, type SnapshotGroup } from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import { badRequest, commonResponses, dateTime, nnum, num, obj, parseWindow, str, text } from '../http.ts';

interface PerfQuery {
  from?: string;
  to?: string;
  step?: number;
  metric: string;
  workflow_type?: string;
  layer?: string;
  component?: string;
  group_by?: string;
}

export interface PerfPoint {
  time: string;
  count: number;
  rate_per_second: number;
  error_count: number;
  error_rate: number | null;
  avg_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

const pointSchema = obj({
  time: str, count: num, rate_per_second: num, error_count: num, error_rate: nnum, avg_ms: nnum, min_ms: nnum, max_ms: nnum,
  p50_ms: nnum, p95_ms: nnum, p99_ms: nnum,
});

/**
 * Time series from performance_snapshots (one row per minute × scope × metric, counted from
 * every span before sampling). Rows are summed per step in SQL; histogram buckets are summed
 * per step in SQL too (only non-zero buckets travel), and the quantiles are read from the
 * merged histogram, so p95 over a step is the p95 of all its spans, not an average of p95s.
 */
export function performanceRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  app.get<{ Querystring: PerfQuery }>(
    '/performance',
    {
      schema: {
        tags: ['performance'],
        summary: 'Latency percentiles, request rate and error rate over time',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { ...dateTime, description: 'default: one hour before `to`' },
            to: { ...dateTime, description: 'default: now' },
            step: { type: 'integer', minimum: 60, maximum: 31 * 86400, description: 'seconds, a multiple of 60; default 60' },
            metric: { type: 'string', pattern: '^[a-z0-9_.]{1,64}$', default: 'duration_ms' },
            workflow_type: text(),
            layer: text(64),
            component: text(),
            group_by: { type: 'string', pattern: '^(workflow_type|layer|component)(,(workflow_type|layer|component)){0,2}$' },
          },
        },
        response: {
          200: obj({
            from: str, to: str, step_seconds: num, metric: str,
            group_by: { type: 'array', items: str },
            series: { type: 'array', items: obj({ labels: { type: 'object', additionalProperties: { type: 'string' } }, points: { type: 'array', items: pointSchema } }) },
          }),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const step = q.step ?? 60;
      if (step % 60 !== 0) throw badRequest('step must be a multiple of 60 seconds (snapshots are per minute)');
      const { fromMs, toMs } = parseWindow(q, 3_600_000, { nonEmpty: true });
      const stepMs = step * 1000;
      const start = Math.floor(fromMs / stepMs) * stepMs;
      const points = Math.ceil((toMs - start) / stepMs);
      if (points > config.FLOWSCOPE_QUERY_MAX_POINTS) {
        throw badRequest(`range / step gives ${points} points, more than ${config.FLOWSCOPE_QUERY_MAX_POINTS}: use a larger step`);
      }
      const groupBy = [...new Set((q.group_by ?? '').split(',').filter((g): g is SnapshotGroup => (SNAPSHOT_GROUPS as readonly string[]).includes(g)))];
      const { cells: scalars, buckets: bucketRows } = await snapshotSeries(db, {
        metric: q.metric,
        fromIso: new Date(start).toISOString(),
        toIso: new Date(toMs).toISOString(),
        stepSeconds: step,
        workflow_type: q.workflow_type,
        layer: q.layer,
        component: q.component,
        groupBy,
      });
      const seriesKey = (r: Partial<Record<SnapshotGroup, string>>) => JSON.stringify(groupBy.map((c) => r[c]));
      const cellKey = (r: Partial<Record<SnapshotGroup, string>> & { t: number }) => `${seriesKey(r)}@${Number(r.t)}`;
      const hist = new Map<string, number[]>();
      for (const r of bucketRows) {
        const k = cellKey(r);
        let b = hist.get(k);
        if (!b) hist.set(k, (b = emptyBuckets()));
        const i = Number(r.i) - 1;
        if (i >= 0 && i < b.length) b[i]! += Number(r.n);
      }
      const cells = new Map<string, (typeof scalars)[number]>();
      const series = new Map<string, Record<string, string>>();
      for (const r of scalars) {
        cells.set(cellKey(r), r);
        const sk = seriesKey(r);
        if (!series.has(sk)) series.set(sk, Object.fromEntries(groupBy.map((c) => [c, String(r[c])])));
      }
      if (groupBy.length === 0 && series.size === 0) series.set(seriesKey({}), {});
      const out = [...series.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([sk, labels]) => {
          const pts: PerfPoint[] = [];
          for (let p = 0; p < points; p++) {
            const tSec = (start + p * stepMs) / 1000;
            const cell = cells.get(`${sk}@${tSec}`);
            const n = Number(cell?.n ?? 0);
            const errors = Number(cell?.errors ?? 0);
            const b = hist.get(`${sk}@${tSec}`);
            const min = cell?.min ?? null;
            const max = cell?.max ?? null;
            pts.push({
              time: new Date(tSec * 1000).toISOString(),
              count: n,
              rate_per_second: n / step,
              error_count: errors,
              error_rate: n > 0 ? errors / n : null,
              avg_ms: n > 0 ? Number(cell?.total ?? 0) / n : null,
              min_ms: min === null ? null : Number(min),
              max_ms: max === null ? null : Number(max),
              p50_ms: b ? quantile(b, 0.5, min, max) : null,
              p95_ms: b ? quantile(b, 0.95, min, max) : null,
              p99_ms: b ? quantile(b, 0.99, min, max) : null,
            });
          }
          return { labels, points: pts };
        });
      return {
        from: new Date(start).toISOString(),
        to: new Date(toMs).toISOString(),
        step_seconds: step,
        metric: q.metric,
        group_by: groupBy,
        series: out,
      };
    },
  );
}
