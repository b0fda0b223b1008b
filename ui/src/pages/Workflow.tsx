import { useMemo, useState } from 'preact/hooks';
import { ApiError, apiPost, describeError } from '../api.ts';
import { useApi, useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ErrorBox, KeyValues, LayerSwatch, Loading, Section, StatusBadge } from '../components.tsx';
import { useIsAdmin } from '../session.ts';
import { flattenSpans, layerColor, spanKey, type FlatSpan, type Waterfall } from '../lib/waterfall.ts';
import { formatDuration, formatTime, parseIsoMs } from '../lib/time.ts';
import type { Analysis, ApiSpan, ErrorEntry, Suspect, TraceAnswer, WorkflowAnswer } from '../lib/types.ts';
import { suspectWhere, suspectWhy } from '../lib/suspects.ts';
import { WaterfallView } from './Waterfall.tsx';
import { NotFound } from './NotFound.tsx';

/** A workflow run (by correlation id) or a single trace (by trace id): summary, suspects, layers, waterfall, span detail, errors. */
export function WorkflowPage({ id, kind }: { id: string; kind: 'workflow' | 'trace' }) {
  useTitle(kind === 'workflow' ? `Workflow ${id}` : `Trace ${id}`);
  const res = useApi<WorkflowAnswer | TraceAnswer>(kind === 'workflow' ? `workflows/${encodeURIComponent(id)}` : `traces/${encodeURIComponent(id)}`);
  const analysis = res.data;
  const waterfall = useMemo(() => (analysis ? flattenSpans(analysis.spans, analysis.critical_path.segments) : undefined), [analysis]);
  const [selected, setSelected] = useState<string | null>(null);

  if (res.error instanceof ApiError && (res.error.status === 404 || (kind === 'trace' && res.error.status === 400))) {
    return <NotFound what={kind === 'workflow' ? `No workflow has the correlation id “${id}”.` : `No trace has the id “${id}”.`} />;
  }
  if (res.error !== undefined) return <main id="main"><h1>{kind === 'workflow' ? 'Workflow' : 'Trace'}</h1><ErrorBox error={res.error} retry={res.reload} /></main>;
  if (!analysis || !waterfall) return <main id="main"><h1>{kind === 'workflow' ? 'Workflow' : 'Trace'} {id}</h1><Loading what="the spans" /></main>;

  const wf = 'workflow' in analysis ? analysis : undefined;
  const selectedRow = selected !== null ? waterfall.rows[waterfall.byKey.get(selected) ?? -1] : undefined;
  const services = [...new Set(waterfall.rows.map((r) => r.span.component))].sort();
  const traces = new Set(waterfall.rows.map((r) => r.span.trace_id));
  const select = (traceId: string | null | undefined, spanId: string | null | undefined) => {
    const k = spanKey(traceId, spanId);
    if (waterfall.byKey.has(k)) setSelected(k);
  };

  return (
    <main id="main" class="workflow-page">
      <div class="page-head">
        <h1>
          {wf ? (
            <>
              {wf.workflow.workflow_type} <span class="mono subtle">{wf.workflow.workflow_id}</span>
            </>
          ) : (
            <>
              Trace <span class="mono subtle">{id}</span>
            </>
          )}
        </h1>
        {wf && <StatusBadge status={wf.workflow.status} />}
      </div>
      <Summary analysis={analysis} services={services} traceCount={traces.size} />
      {wf?.suspects && wf.suspects.length > 0 && <Suspects suspects={wf.suspects} onSelect={select} />}
      {analysis.truncated && (
        <p class="alert alert-warn" role="status">
          Only the first {analysis.span_count.toLocaleString('en-US')} spans are shown: the API truncates larger workflows (FLOWSCOPE_QUERY_MAX_SPANS).
        </p>
      )}
      <LayerBar analysis={analysis} />
      <div class="wf-layout">
        <Section title="Timeline">
          {waterfall.rows.length === 0 ? (
            <p class="muted">No span of this workflow was stored (all were sampled out); its counts are still in the statistics.</p>
          ) : (
            <WaterfallView data={waterfall} selected={selected} onSelect={setSelected} />
          )}
        </Section>
        <SpanDetail row={selectedRow} waterfall={waterfall} onClose={() => setSelected(null)} onSelect={select} />
      </div>
      {wf && <Errors errors={wf.errors} onSelect={select} reload={res.reload} />}
      {!wf && 'workflow_ids' in analysis && (
        <Section title="Workflows of this trace">
          <ul>
            {analysis.workflow_ids.map((w) => (
              <li key={w}>
                <Link href={`/workflows/${encodeURIComponent(w)}`}>{w}</Link>
              </li>
            ))}
          </ul>
        </Section>
      )}
    </main>
  );
}

function Summary({ analysis, services, traceCount }: { analysis: WorkflowAnswer | TraceAnswer; services: string[]; traceCount: number }) {
  const wf = 'workflow' in analysis ? analysis.workflow : undefined;
  return (
    <dl class="summary card" aria-label="Summary">
      {wf && (
        <>
          <div><dt>Started (UTC)</dt><dd>{formatTime(wf.started_at, true)}</dd></div>
          <div><dt>Duration</dt><dd>{formatDuration(wf.duration_ms)}</dd></div>
          <div><dt>User</dt><dd>{wf.user_id ?? '—'}</dd></div>
          <div><dt>Spans</dt><dd>{wf.span_count.toLocaleString('en-US')}{wf.stored ? '' : ' (not stored)'}</dd></div>
          <div><dt>Errors</dt><dd>{wf.error_count}</dd></div>
        </>
      )}
      <div><dt>Traces</dt><dd>{traceCount}</dd></div>
      <div><dt>Critical path</dt><dd>{formatDuration(analysis.critical_path.duration_ms)}</dd></div>
      <div class="summary-wide"><dt>Services</dt><dd>{services.join(', ') || '—'}</dd></div>
    </dl>
  );
}

function Suspects({ suspects, onSelect }: { suspects: Suspect[]; onSelect: (t: string | null | undefined, s: string | null | undefined) => void }) {
  return (
    <section class="alert alert-suspect" aria-label="Likely causes">
      <h2>Likely cause{suspects.length > 1 ? 's' : ''}</h2>
      <ol>
        {suspects.slice(0, 3).map((s) => (
          <li key={`${s.trace_id}/${s.span_id}`}>
            <span class={`badge reason-${s.reason}`}>{suspectWhy(s)}</span> <strong>{suspectWhere(s)}</strong>
            <span class="muted"> ({s.layer}{s.on_critical_path ? ', on the critical path' : ''})</span>: {s.summary}{' '}
            <button type="button" class="btn btn-small btn-link" onClick={() => onSelect(s.trace_id, s.span_id)} aria-label={`Show span ${suspectWhere(s)}`}>
              Show span
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}

function LayerBar({ analysis }: { analysis: Analysis }) {
  const layers = analysis.layer_breakdown.filter((l) => l.self_ms > 0);
  if (layers.length === 0) return null;
  return (
    <section class="card" aria-label="Time by layer">
      <h2>Time by layer (self time)</h2>
      <div class="layer-bar" aria-hidden="true">
        {layers.map((l) => (
          <span key={l.layer} style={{ width: `${Math.max(l.share * 100, 0.5)}%`, background: layerColor(l.layer) }} />
        ))}
      </div>
      <ul class="legend">
        {layers.map((l) => (
          <li key={l.layer}>
            <LayerSwatch layer={l.layer} /> {l.layer}: {formatDuration(l.self_ms)} ({(l.share * 100).toFixed(1)} %, {l.span_count} span{l.span_count === 1 ? '' : 's'})
          </li>
        ))}
      </ul>
    </section>
  );
}

const KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function SpanDetail({ row, waterfall, onClose, onSelect }: {
  row: FlatSpan | undefined;
  waterfall: Waterfall;
  onClose: () => void;
  onSelect: (t: string | null | undefined, s: string | null | undefined) => void;
}) {
  if (!row) {
    return (
      <aside class="card span-detail" aria-label="Span detail">
        <h2>Span detail</h2>
        <p class="muted">Choose a span in the timeline to see its attributes, events, links and resource.</p>
      </aside>
    );
  }
  const s: ApiSpan = row.span;
  const parent = row.parent >= 0 ? waterfall.rows[row.parent] : undefined;
  return (
    <aside class="card span-detail" aria-label="Span detail">
      <div class="card-head">
        <h2>
          {s.is_error && <span class="err-mark" aria-hidden="true">!</span>} {s.name}
        </h2>
        <button type="button" class="btn btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      <dl class="kv">
        <div class="kv-row"><dt>Service</dt><dd>{s.component}</dd></div>
        <div class="kv-row"><dt>Layer</dt><dd><LayerSwatch layer={s.layer} /> {s.layer}</dd></div>
        <div class="kv-row"><dt>Status</dt><dd>{s.is_error ? `error${s.status_message ? `: ${s.status_message}` : ''}` : 'ok'}</dd></div>
        <div class="kv-row"><dt>Duration</dt><dd>{formatDuration(s.duration_ms)} (self {formatDuration(s.self_ms)})</dd></div>
        <div class="kv-row"><dt>Start (UTC)</dt><dd>{formatTime(s.start_time, true)} (+{formatDuration(row.startMs - waterfall.startMs)})</dd></div>
        <div class="kv-row"><dt>Kind</dt><dd>{KIND[s.kind] ?? s.kind}</dd></div>
        <div class="kv-row"><dt>Trace id</dt><dd class="mono"><a href={`/traces/${s.trace_id}`}>{s.trace_id}</a></dd></div>
        <div class="kv-row"><dt>Span id</dt><dd class="mono">{s.span_id}</dd></div>
        {parent && (
          <div class="kv-row"><dt>Parent</dt><dd><button type="button" class="btn-link" onClick={() => onSelect(parent.span.trace_id, parent.span.span_id)}>{parent.span.name}</button></dd></div>
        )}
        {s.scope_name && <div class="kv-row"><dt>Scope</dt><dd>{s.scope_name}</dd></div>}
      </dl>
      <h3>Attributes</h3>
      <KeyValues values={s.attributes} label="Attributes" />
      <h3>Events</h3>
      {s.events.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="events">
          {s.events.map((e, i) => {
            const stack = e.attributes['exception.stacktrace'];
            const { ['exception.stacktrace']: _st, ...rest } = e.attributes;
            return (
              <li key={i}>
                <p>
                  <strong>{e.name}</strong> <span class="muted">at +{formatDuration(Math.max(0, parseIsoMs(e.time) - row.startMs))}</span>
                </p>
                <KeyValues values={rest} label={`Attributes of event ${e.name}`} />
                {typeof stack === 'string' && (
                  <pre class="stack" aria-label="Exception stack trace" tabIndex={0}>
                    {stack}
                  </pre>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <h3>Links</h3>
      {(s.links ?? []).length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {(s.links ?? []).map((l, i) => (
            <li key={i} class="mono">
              <a href={`/traces/${l.traceId}`}>trace {l.traceId}</a> span {l.spanId}
            </li>
          ))}
        </ul>
      )}
      <h3>Resource</h3>
      <KeyValues values={s.resource} label="Resource" />
    </aside>
  );
}

function Errors({ errors, onSelect, reload }: { errors: ErrorEntry[]; onSelect: (t: string | null | undefined, s: string | null | undefined) => void; reload: () => void }) {
  const admin = useIsAdmin();
  const [problem, setProblem] = useState<string | null>(null);
  const resolve = async (id: number) => {
    setProblem(null);
    try {
      await apiPost(`errors/${id}/resolve`);
      reload();
    } catch (err) {
      setProblem(describeError(err));
    }
  };
  return (
    <Section title={`Errors (${errors.length})`}>
      {problem && <p class="alert alert-error" role="alert">{problem}</p>}
      {errors.length === 0 ? (
        <p class="muted">No error was recorded for this workflow.</p>
      ) : (
        <table class="table">
          <caption class="sr-only">Errors of this workflow</caption>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Severity</th>
              <th scope="col">Where</th>
              <th scope="col">Error</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {errors.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.occurred_at, true)}</td>
                <td><span class={`badge sev-${e.severity}`}>{e.severity}</span></td>
                <td>
                  {e.span_id ? (
                    <button type="button" class="btn-link" onClick={() => onSelect(e.trace_id, e.span_id)}>
                      {[e.component, e.span_name].filter(Boolean).join(' · ') || 'span'}
                    </button>
                  ) : (
                    e.component ?? '—'
                  )}{' '}
                  <span class="muted">({e.layer ?? '?'})</span>
                </td>
                <td>
                  <strong>{e.error_type ?? 'error'}</strong>: {e.message ?? ''}
                </td>
                <td>
                  {e.resolved ? (
                    'resolved'
                  ) : admin ? (
                    <button type="button" class="btn btn-small" onClick={() => resolve(e.id)} aria-label={`Resolve ${e.error_type ?? 'error'}: ${e.message ?? ''}`}>
                      Resolve
                    </button>
                  ) : (
                    'unresolved'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
