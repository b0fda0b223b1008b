import type { ComponentChildren } from 'preact';
import { describeError } from './api.ts';
import { layerColor } from './lib/waterfall.ts';

const STATUS_LABEL: Record<string, string> = { in_progress: 'in progress', completed: 'completed', failed: 'failed', timed_out: 'timed out' };

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{STATUS_LABEL[status] ?? status}</span>;
}

export function LayerSwatch({ layer }: { layer: string }) {
  return <span class="swatch" style={{ background: layerColor(layer) }} aria-hidden="true" />;
}

/** A failed request, said for people, with a retry when one makes sense. */
export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="alert alert-error" role="alert">
      <p>{describeError(error)}</p>
      {retry && (
        <button type="button" class="btn" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** Previous/next buttons and "Page n of m" under a list of `total` rows, `pageSize` a page; nothing when one page holds them all. */
export function Pager({ page, total, pageSize, go }: { page: number; total: number; pageSize: number; go: (page: number) => void }) {
  if (total <= pageSize) return null;
  const pages = Math.ceil(total / pageSize);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="btn" disabled={page === 0} onClick={() => go(page - 1)}>
        Previous page
      </button>
      <span>
        Page {page + 1} of {pages}
      </span>
      <button type="button" class="btn" disabled={page + 1 >= pages} onClick={() => go(page + 1)}>
        Next page
      </button>
    </nav>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <div class="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Attributes (or resource) as a two-column list; values that are objects are shown as JSON. */
export function KeyValues({ values, label }: { values: Record<string, unknown> | undefined; label: string }) {
  const entries = Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p class="muted">None.</p>;
  return (
    <dl class="kv" aria-label={label}>
      {entries.map(([k, v]) => (
        <div key={k} class="kv-row">
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
