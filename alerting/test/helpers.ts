import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { BUCKET_COUNT, bucketIndex, emptyBuckets, writeSnapshotDeltas, type Database, type SnapshotDelta } from '@flowscope/storage';
import { alertingConfig, type AlertingConfig } from '../src/config.ts';
import type { AlertingHandle } from '../src/index.ts';

export const REDIS_URL = process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const testLogger = () => pino({ level: process.env.FLOWSCOPE_TEST_LOG_LEVEL ?? 'silent' });

export const uniquePrefix = () => `fs-test-${randomBytes(5).toString('hex')}`;

/** Deletes every key of a BullMQ prefix. */
export async function cleanRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** A real SMTP server on 127.0.0.1 (no TLS, any auth) that keeps what it accepts. */
export class TestSmtp {
  readonly received: ReceivedEmail[] = [];
  /** Connections that reached DATA, including those not accepted. */
  dataStarted = 0;
  /** When set, DATA is read but never answered (a worker dies "mid-send"). */
  hold = false;
  /** When set, every recipient is refused with this SMTP code (e.g. 550). */
  rejectRecipients: number | undefined;
  /** Delay before answering DATA, in ms (a slow server). */
  answerDelayMs = 0;
  private server: SMTPServer | undefined;
  port = 0;
  authUsers: string[] = [];
  passwords: string[] = [];

  async start(port = 0): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, cb) => {
        this.authUsers.push(auth.username ?? '');
        this.passwords.push(auth.password ?? '');
        cb(null, { user: auth.username });
      },
      onRcptTo: (_address, _session, cb) => {
        if (this.rejectRecipients === undefined) return cb();
        cb(Object.assign(new Error('mailbox unavailable'), { responseCode: this.rejectRecipients }));
      },
      onData: (stream, _session, cb) => {
        this.dataStarted += 1;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.hold) return; // never answer
          new Promise((r) => setTimeout(r, this.answerDelayMs))
            .then(() => simpleParser(Buffer.concat(chunks)))
            .then((m) => {
              const to = m.to === undefined ? [] : (Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a.value.map((v) => v.address ?? ''));
              this.received.push({
                from: m.from?.text ?? '',
                to,
                subject: m.subject ?? '',
                text: m.text ?? '',
                html: typeof m.html === 'string' ? m.html : '',
                messageId: m.messageId ?? '',
              });
              cb();
            })
            .catch((err: Error) => cb(err));
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    // Drop open connections (a held DATA) rather than waiting for them.
    for (const c of (s as unknown as { connections: Set<{ close(): void }> }).connections ?? []) c.close();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export function testConfig(env: Record<string, string | undefined> = {}): AlertingConfig {
  return alertingConfig({
    FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '0.1',
    FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: '3600',
    FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
    FLOWSCOPE_PUBLIC_URL: 'https://flowscope.example.com',
    FLOWSCOPE_EMAIL_BACKOFF_MS: '100',
    FLOWSCOPE_ALERTING_METRICS_PORT: '0',
    ...env,
  });
}

/** Observations of one minute for one scope, as the collector's span metrics would write them. */
export function delta(
  bucketStartMs: number,
  scope: { workflowType: string; layer: string; component?: string; metric?: string },
  durationsMs: number[],
  errors = 0,
): SnapshotDelta {
  const buckets = emptyBuckets();
  for (const d of durationsMs) buckets[bucketIndex(d)]! += 1;
  if (buckets.length !== BUCKET_COUNT) throw new Error('bucket count');
  return {
    bucketStartMs: Math.floor(bucketStartMs / 60_000) * 60_000,
    workflowType: scope.workflowType,
    layer: scope.layer,
    component: scope.component ?? 'orders-db',
    metric: scope.metric ?? 'duration_ms',
    count: durationsMs.length,
    errorCount: errors,
    sum: durationsMs.reduce((s, d) => s + d, 0),
    min: Math.min(...durationsMs),
    max: Math.max(...durationsMs),
    buckets,
  };
}

export async function writeDeltas(db: Database, deltas: SnapshotDelta[]): Promise<void> {
  await db.transaction((tx) => writeSnapshotDeltas(tx, deltas));
}

/** Polls `fn` until it returns a truthy value (no fixed sleeps in assertions). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface OutboxRow {
  id: number;
  alert_id: number | null;
  subject: string;
  status: string;
  attempts: number;
  last_error: string | null;
  recipients: string[];
}

export async function outbox(db: Database): Promise<OutboxRow[]> {
  const rows = await db.query<OutboxRow>('SELECT id, alert_id, subject, status, attempts, last_error, recipients FROM email_outbox ORDER BY id');
  return rows.map((r) => ({ ...r, id: Number(r.id), alert_id: r.alert_id === null ? null : Number(r.alert_id), attempts: Number(r.attempts) }));
}

/** Resolves after `n` further evaluations of the worker. */
export function evaluationsPassed(alerting: AlertingHandle, n: number): Promise<true> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = () => {
      if (++seen >= n) {
        alerting.events.off('evaluated', on);
        resolve(true);
      }
    };
    alerting.events.on('evaluated', on);
  });
}
