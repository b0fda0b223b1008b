import { useState } from 'preact/hooks';
import { apiPost, describeError } from '../api.ts';
import { useApi, useTitle } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ErrorBox, Loading, Pager } from '../components.tsx';
import { useIsAdmin } from '../session.ts';
import { formatTime } from '../lib/time.ts';
import type { ErrorEntry, Page } from '../lib/types.ts';

const LAYERS = ['', 'frontend', 'api', 'service', 'database', 'cache', 'queue', 'external'];
const SEVERITIES = ['', 'critical', 'error', 'warning'];
const PAGE_SIZE = 50;

/** Errors, newest first: unresolved by default, filtered by layer, severity, type; admins resolve. */
export function Errors() {
  useTitle('Errors');
  const loc = useLocation();
  const s = loc.search;
  const f = {
    layer: s.get('layer') ?? '',
    severity: s.get('severity') ?? '',
    error_type: s.get('error_type') ?? '',
    workflow_type: s.get('workflow_type') ?? '',
    state: s.get('state') ?? 'unresolved',
    from: s.get('from') ?? '',
    to: s.get('to') ?? '',
    page: Math.max(0, Number(s.get('page') ?? 0) || 0),
  };
  const list = useApi<Page<ErrorEntry>>('errors', {
    layer: f.layer || undefined,
    severity: f.severity || undefined,
    error_type: f.error_type || undefined,
    workflow_type: f.workflow_type || undefined,
    resolved: f.state === 'all' ? undefined : f.state === 'resolved',
    from: f.from || undefined,
    to: f.to || undefined,
    limit: PAGE_SIZE,
    offset: f.page * PAGE_SIZE,
  });
  const admin = useIsAdmin();
  const [problem, setProblem] = useState<string | null>(null);
  const set = (patch: Partial<typeof f>) => {
    const next = { ...f, page: 0, ...patch };
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== '' && !(k === 'state' && v === 'unresolved') && !(k === 'page' && v === 0)) q.set(k, String(v));
    navigate(`/errors${q.size ? `?${q}` : ''}`, true);
  };
  const resolve = async (e: ErrorEntry, resolved: boolean) => {
    setProblem(null);
    try {
      await apiPost(`errors/${e.id}/${resolved ? 'resolve' : 'unresolve'}`);
      list.reload();
    } catch (err) {
      setProblem(describeError(err));
    }
  };
  const total = list.data?.total ?? 0;

  return (
    <main id="main">
      <div class="page-head">
        <h1>Errors</h1>
      </div>
      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="e-state">State</label>
          <select id="e-state" value={f.state} onChange={(e) => set({ state: (e.target as HTMLSelectElement).value })}>
            <option value="unresolved">Unresolved</option>
            <option value="resolved">Resolved</option>
            <option value="all">All</option>
          </select>
        </div>
        <div class="field">
          <label for="e-layer">Layer</label>
          <select id="e-layer" value={f.layer} onChange={(e) => set({ layer: (e.target as HTMLSelectElement).value })}>
            {LAYERS.map((l) => <option key={l} value={l}>{l || 'Any layer'}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="e-sev">Severity</label>
          <select id="e-sev" value={f.severity} onChange={(e) => set({ severity: (e.target as HTMLSelectElement).value })}>
            {SEVERITIES.map((l) => <option key={l} value={l}>{l || 'Any severity'}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="e-type">Error type</label>
          <input id="e-type" value={f.error_type} placeholder="any" onChange={(e) => set({ error_type: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div class="field">
          <label for="e-wf">Workflow type</label>
          <input id="e-wf" value={f.workflow_type} placeholder="any" onChange={(e) => set({ workflow_type: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        {(f.from || f.to) && (
          <button type="button" class="btn" onClick={() => set({ from: '', to: '' })}>
            {`Clear the time window ${formatTime(f.from)} – ${formatTime(f.to)}`}
          </button>
        )}
      </form>
      {problem && <p class="alert alert-error" role="alert">{problem}</p>}
      {list.error !== undefined && <ErrorBox error={list.error} retry={list.reload} />}
      {list.loading && !list.data && <Loading what="errors" />}
      {list.data && (
        <section class="card" aria-label="Error list">
          <p class="muted" role="status">{total === 0 ? 'No error matches these filters.' : `${total.toLocaleString('en-US')} error${total === 1 ? '' : 's'}`}</p>
          {total > 0 && (
            <table class="table">
              <caption class="sr-only">Errors</caption>
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Layer</th>
                  <th scope="col">Where</th>
                  <th scope="col">Error</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((e) => (
                  <tr key={e.id}>
                    <td>{formatTime(e.occurred_at)}</td>
                    <td><span class={`badge sev-${e.severity}`}>{e.severity}</span></td>
                    <td>{e.layer ?? '—'}</td>
                    <td>{[e.component, e.span_name].filter(Boolean).join(' · ') || '—'}</td>
                    <td><strong>{e.error_type ?? 'error'}</strong>: {e.message ?? ''}</td>
                    <td class="mono">
                      {e.correlation_id ? <Link href={`/workflows/${encodeURIComponent(e.correlation_id)}`}>{e.correlation_id}</Link> : '—'}
                      {e.workflow_type && <span class="muted"> ({e.workflow_type})</span>}
                    </td>
                    <td>
                      {e.resolved ? (
                        <>
                          resolved{e.resolved_by ? ` by ${e.resolved_by}` : ''}{' '}
                          {admin && <button type="button" class="btn btn-small" aria-label={`Reopen error ${e.id}`} onClick={() => resolve(e, false)}>Reopen</button>}
                        </>
                      ) : admin ? (
                        <button type="button" class="btn btn-small" aria-label={`Resolve ${e.error_type ?? 'error'}: ${e.message ?? ''}`} onClick={() => resolve(e, true)}>Resolve</button>
                      ) : (
                        'unresolved'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager page={f.page} total={total} pageSize={PAGE_SIZE} go={(page) => set({ page })} />
        </section>
      )}
    </main>
  );
}
