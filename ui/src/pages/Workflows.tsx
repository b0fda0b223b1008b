import { useEffect, useRef, useState } from 'preact/hooks';
import { connectLive, type LiveState } from '../live.ts';
import { useApi, useTitle } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ErrorBox, Loading, Pager, StatusBadge } from '../components.tsx';
import { filtersFromSearch, filtersToApi, filtersToSearch, searchTarget, WORKFLOW_SORTS, type WorkflowFilters } from '../lib/filters.ts';
import { formatDuration, formatTime, QUICK_RANGES } from '../lib/time.ts';
import type { Page, Workflow } from '../lib/types.ts';
import { formatRate, statsQuery, type WorkflowStats } from '../lib/stats.ts';
import { suspectWhere, suspectWhy } from '../lib/suspects.ts';

const PAGE_SIZE = 50;
const STATUSES = [
  ['', 'Any status'],
  ['in_progress', 'In progress'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
  ['timed_out', 'Timed out'],
] as const;

export function Workflows() {
  useTitle('Workflows');
  const loc = useLocation();
  const filters = filtersFromSearch(loc.search);
  // the time range is relative to when the filters were set (reload to move it)
  const [now, setNow] = useState(() => Date.now());
  const list = useApi<Page<Workflow>>('workflows', filtersToApi(filters, PAGE_SIZE, now));
  const stats = useApi<WorkflowStats>('workflow-stats', statsQuery(filters, now));
  const [search, setSearch] = useState('');
  const [paused, setPaused] = useState(false);
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const [pending, setPending] = useState(0);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const reloadRef = useRef(list.reload);
  reloadRef.current = list.reload;
  const statsReloadRef = useRef(stats.reload);
  statsReloadRef.current = stats.reload;

  // new and failed workflows appear as they happen: each event refreshes the list (at most once a second)
  useEffect(() => {
    let due: ReturnType<typeof setTimeout> | undefined;
    const stop = connectLive({
      onState: setLiveState,
      onEvent: (e) => {
        if (!e.type.startsWith('workflow.')) return;
        if (pausedRef.current) {
          setPending((n) => n + 1);
          return;
        }
        due ??= setTimeout(() => {
          due = undefined;
          setNow(Date.now());
          reloadRef.current();
          statsReloadRef.current();
        }, 1000);
      },
    });
    return () => {
      stop();
      if (due) clearTimeout(due);
    };
  }, []);
  const resume = () => {
    setPaused(false);
    if (pending > 0) {
      setPending(0);
      setNow(Date.now());
      list.reload();
    }
  };

  const set = (patch: Partial<WorkflowFilters>) => {
    setNow(Date.now());
    navigate(`/workflows${filtersToSearch({ ...filters, page: 0, ...patch })}`, true);
  };
  const types = [...new Set((list.data?.data ?? []).map((w) => w.workflow_type))].sort();
  const total = list.data?.total ?? 0;

  return (
    <main id="main">
      <div class="page-head">
        <h1>Workflows</h1>
        <form
          class="search"
          role="search"
          aria-label="Find a workflow or trace"
          onSubmit={(e) => {
            e.preventDefault();
            const target = searchTarget(search);
            if (target) navigate(target);
          }}
        >
          <label for="wf-search">Correlation id or trace id</label>
          <input id="wf-search" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          <button type="submit" class="btn">
            Open
          </button>
        </form>
      </div>

      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="f-type">Workflow type</label>
          <input
            id="f-type"
            list="f-type-list"
            value={filters.type}
            onChange={(e) => set({ type: (e.target as HTMLInputElement).value.trim() })}
            placeholder="any"
          />
          <datalist id="f-type-list">
            {types.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}>
            {STATUSES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-range">Started</label>
          <select id="f-range" value={filters.from || filters.to ? 'custom' : filters.range} onChange={(e) => set({ range: (e.target as HTMLSelectElement).value, from: '', to: '' })}>
            {(filters.from || filters.to) && <option value="custom">{`${formatTime(filters.from) } – ${formatTime(filters.to)}`}</option>}
            {QUICK_RANGES.map((r) => (
              <option key={r.key} value={r.key}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-min">Minimum duration (ms)</label>
          <input
            id="f-min"
            type="number"
            min={0}
            value={filters.minDuration}
            onChange={(e) => set({ minDuration: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field field-check">
          <input id="f-errors" type="checkbox" checked={filters.errorsOnly} onChange={(e) => set({ errorsOnly: (e.target as HTMLInputElement).checked })} />
          <label for="f-errors">With errors only</label>
        </div>
        <div class="field">
          <label for="f-sort">Sort</label>
          <select id="f-sort" value={filters.sort} onChange={(e) => set({ sort: (e.target as HTMLSelectElement).value })}>
            {WORKFLOW_SORTS.map((s) => (
              <option key={s.key} value={s.key}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="btn" onClick={() => { setNow(Date.now()); list.reload(); }}>
          Refresh
        </button>
        <div class="live">
          <span class={`live-dot live-${paused ? 'paused' : liveState}`} aria-hidden="true" />
          <span role="status">
            {paused ? `Live updates paused${pending > 0 ? ` (${pending} new event${pending === 1 ? '' : 's'})` : ''}` : liveState === 'live' ? 'Live' : liveState === 'connecting' ? 'Connecting…' : 'Live stream offline, retrying'}
          </span>
          <button type="button" class="btn btn-small" aria-pressed={paused} onClick={() => (paused ? resume() : setPaused(true))}>
            {paused ? 'Resume live updates' : 'Pause live updates'}
          </button>
        </div>
      </form>

      {stats.data && <StatsPanel stats={stats.data} filters={filters} set={set} />}
      {list.error !== undefined && <ErrorBox error={list.error} retry={list.reload} />}
      {list.loading && !list.data && <Loading what="workflows" />}
      {list.data && (
        <section class="card" aria-label="Workflow runs">
          <p class="muted" role="status">
            {total === 0 ? 'No workflow matches these filters.' : `${total.toLocaleString('en-US')} workflow${total === 1 ? '' : 's'}`}
          </p>
          {total > 0 && (
            <table class="table">
              <caption class="sr-only">Workflow runs</caption>
              <thead>
                <tr>
                  <th scope="col">Started (UTC)</th>
                  <th scope="col">Type</th>
                  <th scope="col">Correlation id</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Duration</th>
                  <th scope="col" class="num">Spans</th>
                  <th scope="col" class="num">Errors</th>
                  <th scope="col">User</th>
                  <th scope="col">Likely cause</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((w) => (
                  <tr key={w.workflow_id} class={w.status === 'failed' ? 'row-failed' : undefined}>
                    <td>{formatTime(w.started_at)}</td>
                    <td>{w.workflow_type}</td>
                    <td class="mono">
                      <Link href={`/workflows/${encodeURIComponent(w.workflow_id)}`}>{w.workflow_id}</Link>
                    </td>
                    <td>
                      <StatusBadge status={w.status} />
                    </td>
                    <td class="num">{formatDuration(w.duration_ms)}</td>
                    <td class="num">{w.span_count}</td>
                    <td class="num">{w.error_count}</td>
                    <td>{w.user_id ?? '—'}</td>
                    <td class="cause">
                      {w.top_suspect ? (
                        <span title={w.top_suspect.summary}>
                          <span class={`badge reason-${w.top_suspect.reason}`}>{suspectWhy(w.top_suspect)}</span> {suspectWhere(w.top_suspect)}
                        </span>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager page={filters.page} total={total} pageSize={PAGE_SIZE} go={(page) => navigate(`/workflows${filtersToSearch({ ...filters, page })}`)} />
        </section>
      )}
    </main>
  );
}

const STATUS_ORDER = ['in_progress', 'completed', 'failed', 'timed_out'];

/** Counts by status (each a filter) and, per workflow type, throughput, error rate and p95 over the range. */
function StatsPanel({ stats, filters, set }: { stats: WorkflowStats; filters: WorkflowFilters; set: (p: Partial<WorkflowFilters>) => void }) {
  const total = Object.values(stats.by_status).reduce((a, b) => a + b, 0);
  return (
    <section class="card stats" aria-label="Summary of the range">
      <div class="status-counts">
        {STATUS_ORDER.map((st) => (
          <button
            key={st}
            type="button"
            class={`count-tile status-tile-${st}`}
            aria-pressed={filters.status === st}
            onClick={() => set({ status: filters.status === st ? '' : st })}
          >
            <span class="count-n">{(stats.by_status[st] ?? 0).toLocaleString('en-US')}</span>
            <span class="count-label">{STATUSES.find(([v]) => v === st)?.[1]}</span>
          </button>
        ))}
        <div class="count-tile count-total">
          <span class="count-n">{total.toLocaleString('en-US')}</span>
          <span class="count-label">runs started</span>
        </div>
      </div>
      {stats.by_type.length > 0 && (
        <table class="table table-compact">
          <caption class="sr-only">By workflow type</caption>
          <thead>
            <tr>
              <th scope="col">Workflow type</th>
              <th scope="col" class="num">Runs</th>
              <th scope="col" class="num">Throughput</th>
              <th scope="col" class="num">Error rate</th>
              <th scope="col" class="num">p95 duration</th>
            </tr>
          </thead>
          <tbody>
            {stats.by_type.map((t) => (
              <tr key={t.workflow_type}>
                <td>
                  <button type="button" class="btn-link" onClick={() => set({ type: filters.type === t.workflow_type ? '' : t.workflow_type })}>
                    {t.workflow_type}
                  </button>
                </td>
                <td class="num">{t.count.toLocaleString('en-US')}</td>
                <td class="num">{formatRate(t.per_minute)}</td>
                <td class={`num${t.error_rate > 0.05 ? ' bad' : ''}`}>{(t.error_rate * 100).toFixed(1)} %</td>
                <td class="num">{formatDuration(t.p95_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {stats.types_truncated && <p class="muted">Only the 100 busiest workflow types are shown.</p>}
    </section>
  );
}
