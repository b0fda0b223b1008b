import type { Suspect } from './types.ts';

/** How a suspect is named in one line: where (component · operation) and why, with its main figure. */
export function suspectWhere(s: Pick<Suspect, 'component' | 'operation'>): string {
  return `${s.component} · ${s.operation}`;
}

/** The short reason of a suspect for the workflows list: "slow, 12.5× usual", "error UniqueViolation", "timeout waiting for db". */
export function suspectWhy(s: Pick<Suspect, 'reason' | 'ratio' | 'error_type' | 'downstream'>): string {
  if (s.reason === 'slow') return s.ratio !== null ? `slow, ${s.ratio.toFixed(1)}× usual` : 'slow';
  if (s.reason === 'timeout') return s.downstream ? `timeout waiting for ${s.downstream}` : 'timeout';
  return s.error_type ? `error ${s.error_type}` : 'error';
}
