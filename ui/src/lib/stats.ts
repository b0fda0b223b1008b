import type { WorkflowFilters } from './filters.ts';
import { QUICK_RANGES } from './time.ts';

export type { WorkflowStats } from './types.ts';

/** How far back "any time" looks for the summary (the default span retention). */
export const ANY_TIME_MS = 30 * 24 * 3600_000;

/** The /workflow-stats query for the list's range and type. */
export function statsQuery(f: Pick<WorkflowFilters, 'range' | 'type'> & Partial<Pick<WorkflowFilters, 'from' | 'to'>>, now: number): { from: string; to: string; workflow_type?: string } {
  if (f.from) return { from: f.from, to: f.to || new Date(now + 1000).toISOString(), ...(f.type ? { workflow_type: f.type } : {}) };
  const ms = QUICK_RANGES.find((r) => r.key === f.range)?.ms || ANY_TIME_MS;
  return { from: new Date(now - ms).toISOString(), to: new Date(now + 1000).toISOString(), ...(f.type ? { workflow_type: f.type } : {}) };
}

/** Runs per minute for people: 1.2/s, 35/min, 0.4/min, 2/h. */
export function formatRate(perMinute: number): string {
  if (perMinute >= 120) return `${(perMinute / 60).toFixed(1)}/s`;
  if (perMinute >= 10) return `${Math.round(perMinute)}/min`;
  if (perMinute >= 0.1) return `${perMinute.toFixed(1)}/min`;
  const perHour = perMinute * 60;
  return perHour === 0 ? '0/h' : `${Number(perHour.toPrecision(2))}/h`;
}
