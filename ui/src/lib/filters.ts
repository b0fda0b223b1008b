import { rangeBounds } from './time.ts';

/** The workflows page's filters, kept in the page URL so a view can be shared and bookmarked. */
export interface WorkflowFilters {
  type: string;
  status: string;
  range: string;
  /** An explicit start-time window (links from alert emails); when set it replaces `range`. */
  from: string;
  to: string;
  minDuration: string;
  errorsOnly: boolean;
  sort: string;
  page: number;
}

export const WORKFLOW_SORTS = [
  { key: '-started_at', label: 'Newest first' },
  { key: 'started_at', label: 'Oldest first' },
  { key: '-duration_ms', label: 'Slowest first' },
  { key: 'duration_ms', label: 'Fastest first' },
  { key: '-error_count', label: 'Most errors first' },
  { key: '-span_count', label: 'Most spans first' },
] as const;

export const DEFAULT_FILTERS: WorkflowFilters = { type: '', status: '', range: '24h', from: '', to: '', minDuration: '', errorsOnly: false, sort: '-started_at', page: 0 };

const validTime = (v: string | null): string => (v && Number.isFinite(Date.parse(v)) ? v : '');

export function filtersFromSearch(s: URLSearchParams): WorkflowFilters {
  const page = Number(s.get('page') ?? 0);
  const sort = s.get('sort') ?? DEFAULT_FILTERS.sort;
  return {
    type: s.get('type') ?? '',
    status: s.get('status') ?? '',
    range: s.get('range') ?? DEFAULT_FILTERS.range,
    from: validTime(s.get('from')),
    to: validTime(s.get('to')),
    minDuration: s.get('min_ms') ?? '',
    errorsOnly: s.get('errors') === '1',
    sort: WORKFLOW_SORTS.some((x) => x.key === sort) ? sort : DEFAULT_FILTERS.sort,
    page: Number.isInteger(page) && page >= 0 ? page : 0,
  };
}

/** The page URL's query for filters (defaults left out). */
export function filtersToSearch(f: WorkflowFilters): string {
  const q = new URLSearchParams();
  if (f.type) q.set('type', f.type);
  if (f.status) q.set('status', f.status);
  if (f.range !== DEFAULT_FILTERS.range) q.set('range', f.range);
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  if (f.minDuration) q.set('min_ms', f.minDuration);
  if (f.errorsOnly) q.set('errors', '1');
  if (f.sort !== DEFAULT_FILTERS.sort) q.set('sort', f.sort);
  if (f.page > 0) q.set('page', String(f.page));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The API query for filters at `now`. */
export function filtersToApi(f: WorkflowFilters, pageSize: number, now: number): Record<string, string | number | boolean | undefined> {
  const min = Number(f.minDuration);
  return {
    workflow_type: f.type || undefined,
    status: f.status || undefined,
    ...(f.from || f.to ? { from: f.from || undefined, to: f.to || undefined } : rangeBounds(f.range, now)),
    min_duration_ms: f.minDuration && Number.isFinite(min) && min >= 0 ? min : undefined,
    has_errors: f.errorsOnly ? true : undefined,
    sort: f.sort === DEFAULT_FILTERS.sort ? undefined : f.sort,
    limit: pageSize,
    offset: f.page * pageSize,
  };
}

/** What a search box entry means: a trace id (32 hex digits) or a correlation id. */
export function searchTarget(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  if (/^[0-9a-fA-F]{32}$/.test(t)) return `/traces/${t.toLowerCase()}`;
  return `/workflows/${encodeURIComponent(t)}`;
}
