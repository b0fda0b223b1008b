import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Shares "keep this trace" decisions between collector replicas over Redis pub/sub, so a
 * trace whose spans are split across replicas is still kept whole: the replica that sees the
 * error publishes the trace id, the others release the spans they hold for it.
 * Best effort by design: a lost message costs only the held spans, which were never promised.
 */
export class RedisDecisionBridge {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private closed = false;

  constructor(
    url: string,
    prefix: string,
    private readonly instanceId: string,
    private readonly onKeep: (traceId: string) => void,
    private readonly logger: Logger,
  ) {
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

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
