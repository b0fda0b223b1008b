import { useState } from 'preact/hooks';
import { apiPatch, apiPost, describeError } from '../api.ts';
import { useApi, useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ErrorBox, Loading, Section } from '../components.tsx';
import { useIsAdmin } from '../session.ts';
import { formatTime } from '../lib/time.ts';
import type { AlertRow, EmailRow, Page, Rule } from '../lib/types.ts';

type Email = EmailRow;

const scope = (r: { workflow_type: string | null; layer: string | null; component: string | null }) =>
  [r.workflow_type ?? 'all workflows', r.layer ?? 'all layers', ...(r.component ? [r.component] : [])].join(' / ');
const num = (v: number | null) => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(2));

function AlertTable({ alerts }: { alerts: AlertRow[] }) {
  if (alerts.length === 0) return <p class="muted">No alert.</p>;
  return (
    <table class="table">
      <caption class="sr-only">Alerts</caption>
      <thead>
        <tr>
          <th scope="col">Alert</th>
          <th scope="col">State</th>
          <th scope="col">Severity</th>
          <th scope="col">Rule</th>
          <th scope="col">Scope</th>
          <th scope="col" class="num">Value</th>
          <th scope="col" class="num">Threshold</th>
          <th scope="col">Since (UTC)</th>
          <th scope="col">Email</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr key={a.id}>
            <td><Link href={`/alerts/${a.id}`}>#{a.id}</Link></td>
            <td><span class={`badge ${a.state === 'firing' ? 'status-failed' : 'status-completed'}`}>{a.state}</span></td>
            <td><span class={`badge sev-${a.severity}`}>{a.severity}</span></td>
            <td>{a.rule_name} <span class="muted">({a.metric})</span></td>
            <td>{scope(a)}</td>
            <td class="num">{num(a.value)}</td>
            <td class="num">{num(a.threshold)}</td>
            <td>{formatTime(a.first_seen)}{a.resolved_at ? ` – ${formatTime(a.resolved_at)}` : ''}</td>
            <td>{a.notification_status ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RuleRow({ rule, admin, saved }: { rule: Rule; admin: boolean; saved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [warning, setWarning] = useState(rule.warning_threshold === null ? '' : String(rule.warning_threshold));
  const [critical, setCritical] = useState(rule.critical_threshold === null ? '' : String(rule.critical_threshold));
  const [problem, setProblem] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    try {
      await apiPatch(`alert-rules/${rule.id}`, {
        warning_threshold: warning === '' ? null : Number(warning),
        critical_threshold: critical === '' ? null : Number(critical),
      });
      setEditing(false);
      saved();
    } catch (err) {
      setProblem(describeError(err));
    }
  };
  const toggle = async () => {
    setProblem(null);
    try {
      await apiPost(`alert-rules/${rule.id}/${rule.enabled ? 'disable' : 'enable'}`);
      saved();
    } catch (err) {
      setProblem(describeError(err));
    }
  };
  return (
    <tr>
      <td>{rule.name}{rule.description && <div class="muted">{rule.description}</div>}</td>
      <td class="mono">{rule.metric}</td>
      <td>{scope(rule)}</td>
      {editing ? (
        <td colSpan={2}>
          <form class="rule-form" onSubmit={save} aria-label={`Edit rule ${rule.name}`}>
            <label>Warning <input type="number" step="any" value={warning} onInput={(e) => setWarning((e.target as HTMLInputElement).value)} /></label>
            <label>Critical <input type="number" step="any" value={critical} onInput={(e) => setCritical((e.target as HTMLInputElement).value)} /></label>
            <button type="submit" class="btn btn-small btn-primary">Save</button>
            <button type="button" class="btn btn-small" onClick={() => setEditing(false)}>Cancel</button>
          </form>
          {problem && <p class="alert alert-error" role="alert">{problem}</p>}
        </td>
      ) : (
        <>
          <td class="num">{num(rule.warning_threshold)}</td>
          <td class="num">{num(rule.critical_threshold)}</td>
        </>
      )}
      <td>{Math.round(rule.window_seconds / 60)} min</td>
      <td>{rule.enabled ? 'enabled' : 'disabled'}</td>
      {admin && (
        <td>
          {!editing && (
            <>
              <button type="button" class="btn btn-small" aria-label={`Edit rule ${rule.name}`} onClick={() => setEditing(true)}>Edit</button>{' '}
              <button type="button" class="btn btn-small" aria-label={`${rule.enabled ? 'Disable' : 'Enable'} rule ${rule.name}`} onClick={toggle}>
                {rule.enabled ? 'Disable' : 'Enable'}
              </button>
              {problem && <p class="alert alert-error" role="alert">{problem}</p>}
            </>
          )}
        </td>
      )}
    </tr>
  );
}

/** Firing and resolved alerts with their values and email status; the rules (admins edit them). */
export function Alerts() {
  useTitle('Alerts');
  const alerts = useApi<Page<AlertRow>>('alerts', { limit: 100 });
  const rules = useApi<Page<Rule>>('alert-rules', { limit: 200 });
  const admin = useIsAdmin();
  const firing = (alerts.data?.data ?? []).filter((a) => a.state === 'firing');
  return (
    <main id="main">
      <div class="page-head"><h1>Alerts</h1></div>
      {alerts.error !== undefined && <ErrorBox error={alerts.error} retry={alerts.reload} />}
      {alerts.loading && !alerts.data && <Loading what="alerts" />}
      {alerts.data && (
        <>
          <Section title={`Firing (${firing.length})`}><AlertTable alerts={firing} /></Section>
          <Section title="Recent alert changes"><AlertTable alerts={alerts.data.data} /></Section>
        </>
      )}
      <Section title="Rules">
        {rules.error !== undefined && <ErrorBox error={rules.error} retry={rules.reload} />}
        {rules.data && (
          <table class="table">
            <caption class="sr-only">Alert rules</caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Metric</th>
                <th scope="col">Scope</th>
                <th scope="col" class="num">Warning</th>
                <th scope="col" class="num">Critical</th>
                <th scope="col">Window</th>
                <th scope="col">State</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rules.data.data.map((r) => <RuleRow key={`${r.id}-${r.warning_threshold}-${r.critical_threshold}`} rule={r} admin={admin} saved={rules.reload} />)}
            </tbody>
          </table>
        )}
        {!admin && <p class="muted">Rules are changed with an admin token.</p>}
      </Section>
    </main>
  );
}

/** One alert (the page alert emails link to) and the emails sent for it. */
export function AlertPage({ id }: { id: string }) {
  useTitle(`Alert ${id}`);
  const alert = useApi<AlertRow>(`alerts/${encodeURIComponent(id)}`);
  const emails = useApi<Page<Email>>('email-outbox', { alert_id: /^\d+$/.test(id) ? id : undefined });
  const a = alert.data;
  return (
    <main id="main">
      <div class="page-head"><h1>Alert #{id}</h1>{a && <span class={`badge ${a.state === 'firing' ? 'status-failed' : 'status-completed'}`}>{a.state}</span>}</div>
      {alert.error !== undefined && <ErrorBox error={alert.error} retry={alert.reload} />}
      {a && (
        <>
          <dl class="summary card" aria-label="Summary">
            <div><dt>Rule</dt><dd>{a.rule_name}</dd></div>
            <div><dt>Metric</dt><dd>{a.metric}</dd></div>
            <div><dt>Scope</dt><dd>{scope(a)}</dd></div>
            <div><dt>Severity</dt><dd>{a.severity}</dd></div>
            <div><dt>Value</dt><dd>{num(a.value)} (threshold {num(a.threshold)})</dd></div>
            <div><dt>First seen (UTC)</dt><dd>{formatTime(a.first_seen)}</dd></div>
            <div><dt>Last seen (UTC)</dt><dd>{formatTime(a.last_seen)}</dd></div>
            {a.resolved_at && <div><dt>Resolved (UTC)</dt><dd>{formatTime(a.resolved_at)}</dd></div>}
            <div><dt>Email</dt><dd>{a.notification_status ?? '—'}</dd></div>
          </dl>
          <p>
            <Link href={`/workflows${a.workflow_type ? `?type=${encodeURIComponent(a.workflow_type)}` : ''}`}>Workflows of this scope</Link>
            {' · '}
            <Link href={`/performance${a.workflow_type ? `?workflow_type=${encodeURIComponent(a.workflow_type)}` : ''}`}>Performance</Link>
            {' · '}
            <Link href="/errors">Errors</Link>
          </p>
        </>
      )}
      <Section title="Emails">
        {emails.data && emails.data.data.length === 0 && <p class="muted">No email for this alert.</p>}
        {emails.data && emails.data.data.length > 0 && (
          <table class="table">
            <caption class="sr-only">Emails of this alert</caption>
            <thead><tr><th scope="col">Created (UTC)</th><th scope="col">Subject</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
            <tbody>
              {emails.data.data.map((m) => (
                <tr key={m.id}>
                  <td>{formatTime(m.created_at)}</td>
                  <td>{m.subject}</td>
                  <td>{Array.isArray(m.recipients) ? m.recipients.join(', ') : m.recipients}</td>
                  <td>{m.status}</td>
                  <td>{m.attempts}</td>
                  <td>{m.last_error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </main>
  );
}
