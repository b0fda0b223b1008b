import { Where, iso, pageOf, type Page, type Paged, type Queryable } from '../sql.ts';

/**
 * Email outbox (email_outbox): alert emails written with the alert change that caused them,
 * delivered after commit. Contract:
 * - statuses: pending → sending → sent | failed, or unsent (no SMTP / no recipients);
 *   a 'sent' row never changes again;
 * - `insertOutbox` is idempotent per key (a second insert with the same key returns undefined);
 * - `claimOutbox` records the attempt (status 'sending', attempts + 1) and returns the row, or
 *   undefined when it is not deliverable (sent, unsent or missing; see `outboxStatus`);
 * - lists are newest first (created_at DESC, id DESC).
 */

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unsent';

/** One email_outbox row as the API lists it. */
export interface OutboxRow {
  id: number;
  alert_id: number | null;
  recipients: string[];
  subject: string;
  body_text: string;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

/** What a delivery needs of a row. */
export interface OutboxMessage {
  id: number;
  alert_id: number | null;
  recipients: string[];
  subject: string;
  body_text: string;
  body_html: string | null;
  attempts: number;
}

export function listOutbox(db: Queryable, f: { status?: string | undefined; alertId?: number | undefined }, page: Page): Promise<Paged<OutboxRow>> {
  const w = new Where().add('status = ?', f.status).add('alert_id = ?', f.alertId);
  return pageOf<OutboxRow>(
    db,
    {
      from: 'email_outbox',
      columns: `id::float8 AS id, alert_id::float8 AS alert_id, recipients, subject, body_text, status, attempts, last_error,
                ${iso('created_at')} AS created_at, ${iso('updated_at')} AS updated_at, ${iso('sent_at')} AS sent_at`,
      orderBy: 'created_at DESC, id DESC',
    },
    w,
    page,
  );
}

/** Writes an email; returns its id, or undefined when one with the same idempotency key exists. */
export async function insertOutbox(
  tx: Queryable,
  m: { alertId: number; key: string; recipients: readonly string[]; subject: string; text: string; html: string; status: 'pending' | 'unsent'; lastError: string | null },
): Promise<number | undefined> {
  const rows = await tx.query<{ id: string | number }>(
    `INSERT INTO email_outbox (alert_id, idempotency_key, recipients, subject, body_text, body_html, status, last_error)
     VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $8)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [m.alertId, m.key, m.recipients, m.subject, m.text, m.html, m.status, m.lastError],
  );
  return rows[0] ? Number(rows[0].id) : undefined;
}

/** Rows waiting for delivery (pending or sending, attempts below `maxAttempts`), oldest first. */
export async function pendingOutbox(db: Queryable, maxAttempts: number, limit = 500): Promise<number[]> {
  const rows = await db.query<{ id: string | number }>(
    `SELECT id FROM email_outbox WHERE status IN ('pending', 'sending') AND attempts < $1 ORDER BY created_at LIMIT $2`,
    [maxAttempts, limit],
  );
  return rows.map((r) => Number(r.id));
}

/** Records a delivery attempt and returns the message, or undefined when the row is not deliverable. */
export async function claimOutbox(db: Queryable, id: number): Promise<OutboxMessage | undefined> {
  const [row] = await db.query<OutboxMessage>(
    `UPDATE email_outbox SET status = 'sending', attempts = attempts + 1, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'sending', 'failed')
      RETURNING id, alert_id, recipients, subject, body_text, body_html, attempts`,
    [id],
  );
  return row && { ...row, id: Number(row.id), alert_id: row.alert_id === null ? null : Number(row.alert_id), attempts: Number(row.attempts) };
}

/** A row's status, or undefined when there is no such row. */
export async function outboxStatus(db: Queryable, id: number): Promise<OutboxStatus | undefined> {
  const [row] = await db.query<{ status: OutboxStatus }>('SELECT status FROM email_outbox WHERE id = $1', [id]);
  return row?.status;
}

/**
 * PostgreSQL only, inside a transaction: locks the row until the transaction ends (SKIP LOCKED:
 * 'locked' when another transaction holds it) and returns its status.
 */
export async function lockOutboxRow(tx: Queryable, id: number): Promise<OutboxStatus | 'locked'> {
  const [row] = await tx.query<{ status: OutboxStatus }>('SELECT status FROM email_outbox WHERE id = $1 FOR UPDATE SKIP LOCKED', [id]);
  return row?.status ?? 'locked';
}

export async function markOutboxSent(q: Queryable, id: number): Promise<void> {
  await q.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), updated_at = now() WHERE id = $1`, [id]);
}

/** Records a failed or skipped attempt (never on a row already sent). */
export async function markOutboxFailed(q: Queryable, id: number, status: 'pending' | 'failed' | 'unsent', error: string): Promise<void> {
  await q.query(`UPDATE email_outbox SET status = $2, last_error = $3, updated_at = now() WHERE id = $1 AND status <> 'sent'`, [id, status, error]);
}

/**
 * Rows left 'sending' after their last allowed attempt and idle since before `idleSinceIso`
 * become 'failed'. Returns how many.
 */
export async function failAbandonedOutbox(db: Queryable, maxAttempts: number, idleSinceIso: string): Promise<number> {
  const rows = await db.query<{ n: string | number }>(
    `WITH f AS (
       UPDATE email_outbox SET status = 'failed', updated_at = now(),
              last_error = coalesce(last_error || '; ', '') || 'abandoned: the worker stopped during the last attempt'
        WHERE status = 'sending' AND attempts >= $1 AND updated_at < $2::timestamptz
        RETURNING 1)
     SELECT count(*) AS n FROM f`,
    [maxAttempts, idleSinceIso],
  );
  return Number(rows[0]?.n ?? 0);
}
