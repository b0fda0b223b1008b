import type { Sample } from './types.ts';

/** Sum of a metric's samples whose labels include `match`; undefined when the process has no such metric. */
export const sumOf = (samples: readonly Sample[], name: string, match: Record<string, string> = {}): number | undefined => {
  const hits = samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return hits.length === 0 ? undefined : hits.reduce((a, s) => a + s.value, 0);
};
