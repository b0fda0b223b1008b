import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * What collector replicas share through Redis, so that a trace whose spans are split across
 * replicas is handled as one:
 * - "keep this trace" decisions over pub/sub: the replica that sees the error publishes the
 *   trace id, the others release the spans they hold for it;
 * - each trace's workflow id and type (keys with a TTL), so an untagged span arriving at
 *   another replica still joins its trace's workflow.
 * Best effort by design: a lost message or a slow Redis costs only held spans (never promised)
 * or a workflow falling back to its trace id.
 */
export class RedisDecisionBridge {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private closed = false;

  private readonly keyPrefix: string;

  constructor(
    url: string,
    prefix: string,
    private readonly instanceId: string,
    private readonly onKeep: (traceId: string) => void,
    private readonly logger: Logger,
    private readonly traceTtlSeconds = 600,
    private readonly recallTimeoutMs = 100,
  ) {
    this.keyPrefix = prefix;
    const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, options);
    this.channel = `${prefix}sampling:keep`;
    for (const c of [this.pub, this.sub]) c.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis (sampling decisions)'));
  }

  async start(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const sep = message.indexOf(':');
      if (sep < 0 || message.slice(0, sep) === this.instanceId) return;
      for (const traceId of message.slice(sep + 1).split(',')) if (/^[0-9a-f]{32}$/.test(traceId)) this.onKeep(traceId);
    });
    await this.sub.subscribe(this.channel);
  }

  publish(traceIds: readonly string[]): void {
    if (this.closed || traceIds.length === 0) return;
    this.pub.publish(this.channel, `${this.instanceId}:${traceIds.join(',')}`).catch((err: Error) => {
      this.logger.warn({ err: err.message, traces: traceIds.length }, 'could not publish keep decisions');
    });
  }

  /** Shares what this replica learned about traces' workflows (TTL'd keys). */
  remember(entries: ReadonlyArray<[string, { id?: string; type?: string }]>): void {
    if (this.closed || entries.length === 0) return;
    const p = this.pub.pipeline();
    for (const [traceId, v] of entries) p.set(`${this.keyPrefix}trace:${traceId}`, JSON.stringify(v), 'EX', this.traceTtlSeconds);
    p.exec().catch((err: Error) => this.logger.warn({ err: err.message }, 'could not share trace workflows'));
  }

  /** What other replicas learned about these traces; empty on any Redis trouble or after recallTimeoutMs. */
  async recall(traceIds: readonly string[]): Promise<Map<string, { id?: string; type?: string }>> {
    const out = new Map<string, { id?: string; type?: string }>();
    if (this.closed || traceIds.length === 0) return out;
    let timer: NodeJS.Timeout | undefined;
    try {
      const values = await Promise.race([
        this.pub.mget(traceIds.map((t) => `${this.keyPrefix}trace:${t}`)),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), this.recallTimeoutMs);
        }),
      ]);
      values?.forEach((v, i) => {
        if (!v) return;
        try {
          const parsed = JSON.parse(v) as { id?: unknown; type?: unknown };
          out.set(traceIds[i]!, {
            ...(typeof parsed.id === 'string' ? { id: parsed.id } : {}),
            ...(typeof parsed.type === 'string' ? { type: parsed.type } : {}),
          });
        } catch {
          // not ours; ignore
        }
      });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not read shared trace workflows');
    } finally {
      clearTimeout(timer);
    }
    return out;
  }

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
