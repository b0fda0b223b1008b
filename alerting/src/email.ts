import nodemailer from 'nodemailer';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import {
  classifyDbError,
  claimOutbox, lockOutboxRow, markOutboxFailed, markOutboxSent, outboxStatus, setAlertNotification, type Database, type OutboxMessage,
  type Queryable,
} from '@flowscope/storage';
import type { AlertingConfig } from './config.ts';

/** Sends one message; resolves once the SMTP server has accepted it. */
export interface Mailer {
  send(message: { to: string[]; subject: string; text: string; html?: string | undefined; messageId: string }): Promise<void>;
  close(): void;
}

/** nodemailer over SMTP, or null when EMAIL_HOST is unset. The password goes to the transport only. */
export function createMailer(config: AlertingConfig): Mailer | null {
  if (!config.EMAIL_HOST) return null;
  const transport = nodemailer.createTransport({
    host: config.EMAIL_HOST,
    port: config.EMAIL_PORT,
    secure: config.FLOWSCOPE_EMAIL_USE_SSL,
    requireTLS: config.EMAIL_USE_TLS,
    ignoreTLS: !config.EMAIL_USE_TLS && !config.FLOWSCOPE_EMAIL_USE_SSL,
    auth: config.EMAIL_HOST_USER ? { user: config.EMAIL_HOST_USER, pass: config.EMAIL_HOST_PASSWORD ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
    logger: false,
    debug: false,
  });
  return {
    send: async (m) => {
      await transport.sendMail({ from: config.FLOWSCOPE_EMAIL_FROM, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
    },
    close: () => transport.close(),
  };
}

export type DeliveryOutcome = 'sent' | 'already_sent' | 'unsent' | 'missing';

type OutboxRow = OutboxMessage;

export interface DeliveryDeps {
  db: Database;
  mailer: Mailer | null;
  logger: Logger;
  /** Stripped from error messages before they are stored or logged. */
  secret?: string | undefined;
}

/** Stable Message-ID per outbox row: a duplicate from the window below is recognisable as one. */
export const messageIdOf = (id: number) => `<flowscope-outbox-${id}@flowscope.invalid>`;

/**
 * Delivers one email_outbox row (the email job). Invariants:
 * - the attempt is recorded (status 'sending', attempts + 1) and committed before SMTP is
 *   contacted, so the outbox shows every attempt, also those of a worker that died;
 * - a row whose success is recorded ('sent') is never sent again, however often its job runs;
 * - on PostgreSQL the row is locked (SELECT … FOR UPDATE SKIP LOCKED) from the status check
 *   until 'sent' is committed, so two workers can never both send it; a worker that dies
 *   releases the lock with its connection;
 * - the only window for a duplicate is between the SMTP server's acceptance (its reply to
 *   DATA) and the commit of 'sent' right after it: a worker killed there, or a database that
 *   fails that commit, leads to one more send on retry (with the same Message-ID).
 * Throws to ask for a retry; throws UnrecoverableError for a permanent SMTP rejection.
 * `final` tells whether this is the last attempt, so a failure is recorded as 'failed'.
 */
export async function deliverEmail(deps: DeliveryDeps, id: number, attempt: { final: boolean }): Promise<DeliveryOutcome> {
  const { db, mailer, logger } = deps;
  const row = await claimOutbox(db, id);
  if (!row) {
    const status = await outboxStatus(db, id);
    return status === 'sent' ? 'already_sent' : status === 'unsent' ? 'unsent' : 'missing';
  }
  const log = logger.child({ outboxId: id, attempt: row.attempts });
  if (!mailer) {
    await finish(db, row, 'unsent', 'SMTP is not configured (EMAIL_HOST unset)');
    log.warn({ subject: row.subject }, 'alert email kept in the outbox as unsent: SMTP is not configured');
    return 'unsent';
  }
  // The outbox row and its alert's notification status are recorded together.
  const recordSent = async (q: Queryable) => {
    await markOutboxSent(q, id);
    await setAlertNotification(q, row.alert_id, 'sent');
  };
  // Which side an error came from: SMTP errors and database errors share codes (ECONNREFUSED).
  let stage: 'database' | 'smtp' = 'database';
  const send = async (q?: Queryable): Promise<DeliveryOutcome> => {
    stage = 'smtp';
    await mailer.send({ to: row.recipients, subject: row.subject, text: row.body_text, html: row.body_html ?? undefined, messageId: messageIdOf(id) });
    stage = 'database';
    // The duplicate window starts here: SMTP has accepted the message.
    if (q) await recordSent(q);
    else await db.transaction(recordSent); // PGlite: not holding its single connection during SMTP
    return 'sent';
  };
  try {
    const outcome =
      db.kind === 'postgres'
        ? await db.transaction(async (tx) => {
            const locked = await lockOutboxRow(tx, id);
            if (locked === 'locked') throw new Error('email is being delivered by another worker');
            if (locked === 'sent') return 'already_sent' as const;
            return send(tx);
          })
        : await send();
    if (outcome === 'sent') {
      log.info({ recipients: row.recipients.length, subject: row.subject }, 'alert email sent');
    }
    return outcome;
  } catch (err) {
    if (stage === 'database' && ['unavailable', 'retry'].includes(classifyDbError(err))) {
      // Not the email's fault: nothing can be recorded now, and the row stays deliverable
      // ('sending', picked up again by the retry or the outbox sweep once the database is back).
      log.warn({ err: errorMessage(err) }, 'database unavailable during alert email delivery, will retry');
      throw new DatabaseUnavailableError(errorMessage(err), err);
    }
    const message = scrub(errorMessage(err), deps.secret);
    const permanent = isPermanent(err);
    const final = attempt.final || permanent;
    await finish(db, row, final ? 'failed' : 'pending', message);
    log.warn({ err: message, final, permanent }, final ? 'alert email failed, giving up' : 'alert email attempt failed, will retry');
    if (permanent) throw new UnrecoverableError(message);
    throw new Error(message);
  }
}

async function finish(db: Database, row: OutboxRow, status: 'pending' | 'failed' | 'unsent', error: string): Promise<void> {
  // The outbox row and its alert's notification status change together (one transaction).
  await db.transaction(async (tx) => {
    await markOutboxFailed(tx, row.id, status, error);
    if (status !== 'pending') await setAlertNotification(tx, row.alert_id, status);
  });
}

function errorMessage(err: unknown): string {
  const e = err as { message?: string; code?: string; responseCode?: number };
  const parts = [e.code, e.responseCode, e.message ?? String(err)].filter((p) => p !== undefined && p !== '');
  return parts.join(' ').slice(0, 1000);
}

/** SMTP rejected the message itself (5xx on the envelope or data), as opposed to being unreachable or unauthenticated. */
function isPermanent(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number };
  if (e.code === 'EENVELOPE' && e.responseCode === undefined) return true;
  return e.code !== 'EAUTH' && typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
}

function scrub(message: string, secret: string | undefined): string {
  return secret && secret.length > 0 ? message.split(secret).join('***REDACTED***') : message;
}

/** A job failed because the database was unavailable: retried, never counted against the email. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, cause: unknown) {
    super(`database unavailable: ${message}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}
