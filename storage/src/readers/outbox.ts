import { and, asc, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import { emailOutbox, type EmailOutboxRecord } from '../schema.ts';
import { eqIf, pageOfRows, run, snakeColumns, type Page, type Paged, type Queryable, type SnakeRow } from '../sql.ts';

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

export type OutboxStatus = EmailOutboxRecord['status'];

/** One email_outbox row as the API lists it. */
export type OutboxRow = SnakeRow<Omit<EmailOutboxRecord, 'idempotencyKey' | 'bodyHtml'>>;

/** What a delivery needs of a row. */
export type OutboxMessage = SnakeRow<Pick<EmailOutboxRecord, 'id' | 'alertId' | 'recipients' | 'subject' | 'bodyText' | 'bodyHtml' | 'attempts'>>;

const OUTBOX_COLUMNS = snakeColumns(emailOutbox, ['idempotencyKey', 'bodyHtml']);

export function listOutbox(db: Queryable, f: { status?: string | undefined; alertId?: number | undefined }, page: Page): Promise<Paged<OutboxRow>> {
  const where = and(eqIf(emailOutbox.status, f.status as OutboxStatus | undefined), eqIf(emailOutbox.alertId, f.alertId));
  const rows = db.drizzle.select(OUTBOX_COLUMNS).from(emailOutbox).where(where).orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id));
  return pageOfRows(db, emailOutbox, where, rows, page);
}

/** Writes an email; returns its id, or undefined when one with the same idempotency key exists. */
export async function insertOutbox(
  tx: Queryable,
  m: { alertId: number; key: string; recipients: readonly string[]; subject: string; text: string; html: string; status: 'pending' | 'unsent'; lastError: string | null },
): Promise<number | undefined> {
  const rows = await run(
    tx.drizzle
      .insert(emailOutbox)
      .values({
        alertId: m.alertId,
        idempotencyKey: m.key,
        recipients: [...m.recipients],
        subject: m.subject,
        bodyText: m.text,
        bodyHtml: m.html,
        status: m.status,
        lastError: m.lastError,
      })
      .onConflictDoNothing({ target: emailOutbox.idempotencyKey })
      .returning({ id: emailOutbox.id }),
  );
  return rows[0]?.id;
}

/** Rows waiting for delivery (pending or sending, attempts below `maxAttempts`), oldest first. */
export async function pendingOutbox(db: Queryable, maxAttempts: number, limit = 500): Promise<number[]> {
  const rows = await run(
    db.drizzle
      .select({ id: emailOutbox.id })
      .from(emailOutbox)
      .where(and(inArray(emailOutbox.status, ['pending', 'sending']), lt(emailOutbox.attempts, maxAttempts)))
      .orderBy(asc(emailOutbox.createdAt))
      .limit(limit),
  );
  return rows.map((r) => r.id);
}

/** Records a delivery attempt and returns the message, or undefined when the row is not deliverable. */
export async function claimOutbox(db: Queryable, id: number): Promise<OutboxMessage | undefined> {
  const [row] = await run(
    db.drizzle
      .update(emailOutbox)
      .set({ status: 'sending', attempts: sql`${emailOutbox.attempts} + 1`, updatedAt: sql`now()` })
      .where(and(eq(emailOutbox.id, id), inArray(emailOutbox.status, ['pending', 'sending', 'failed'])))
      .returning({
        id: emailOutbox.id,
        alert_id: emailOutbox.alertId,
        recipients: emailOutbox.recipients,
        subject: emailOutbox.subject,
        body_text: emailOutbox.bodyText,
        body_html: emailOutbox.bodyHtml,
        attempts: emailOutbox.attempts,
      }),
  );
  return row;
}

/** A row's status, or undefined when there is no such row. */
export async function outboxStatus(db: Queryable, id: number): Promise<OutboxStatus | undefined> {
  const [row] = await run(db.drizzle.select({ status: emailOutbox.status }).from(emailOutbox).where(eq(emailOutbox.id, id)));
  return row?.status;
}

/**
 * PostgreSQL only, inside a transaction: locks the row until the transaction ends (SKIP LOCKED:
 * 'locked' when another transaction holds it) and returns its status.
 */
export async function lockOutboxRow(tx: Queryable, id: number): Promise<OutboxStatus | 'locked'> {
  const [row] = await run(
    tx.drizzle.select({ status: emailOutbox.status }).from(emailOutbox).where(eq(emailOutbox.id, id)).for('update', { skipLocked: true }),
  );
  return row?.status ?? 'locked';
}

export async function markOutboxSent(q: Queryable, id: number): Promise<void> {
  await run(q.drizzle.update(emailOutbox).set({ status: 'sent', sentAt: sql`now()`, updatedAt: sql`now()` }).where(eq(emailOutbox.id, id)));
}

/** Records a failed or skipped attempt (never on a row already sent). */
export async function markOutboxFailed(q: Queryable, id: number, status: 'pending' | 'failed' | 'unsent', error: string): Promise<void> {
  await run(
    q.drizzle
      .update(emailOutbox)
      .set({ status, lastError: error, updatedAt: sql`now()` })
      .where(and(eq(emailOutbox.id, id), ne(emailOutbox.status, 'sent'))),
  );
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
