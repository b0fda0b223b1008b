import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import { errors } from '@flowscope/common';

/** The shortest ingest token accepted in FLOWSCOPE_INGEST_TOKENS. */
export const MIN_INGEST_TOKEN_CHARS = 16;

export interface IngestToken {
  /** Shown in logs and metrics in place of the token (`name:` prefix, or `token-<sha256 prefix>`). */
  name: string;
  token: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * FLOWSCOPE_INGEST_TOKENS: comma-separated `name:token` (or bare `token`) entries. Refusals
 * name the entry by position, never by its value (the value is a secret).
 */
export const envIngestTokens = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: IngestToken[] = [];
      if (v === undefined || v.trim() === '') return out;
      const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
      for (const [i, entry] of entries.entries()) {
        const colon = entry.indexOf(':');
        const named = colon > 0 && NAME.test(entry.slice(0, colon));
        const token = named ? entry.slice(colon + 1) : entry;
        if (token.length < MIN_INGEST_TOKEN_CHARS || /\s/.test(token)) {
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1} of ${entries.length}: a token needs at least ${MIN_INGEST_TOKEN_CHARS} characters and no spaces` });
          return z.NEVER;
        }
        const name = named ? entry.slice(0, colon) : `token-${sha256(token).slice(0, 8)}`;
        if (out.some((t) => t.name === name)) {
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1} of ${entries.length}: the name "${name}" is used twice` });
          return z.NEVER;
        }
        out.push({ name, token });
      }
      return out;
    });

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export interface IngestAuthOptions {
  tokens: readonly IngestToken[];
  /** Requests per window per token; 0 = no limit. */
  rateLimit: number;
  rateWindowSeconds: number;
  /** Called with the token's name on every refusal past the rate limit (a metric). */
  onRateLimited?: (name: string) => void;
}

/**
 * Optional ingest authentication for both OTLP receivers. With no tokens configured every
 * request passes (the default: the collector trusts its network). With tokens, a request must
 * carry `Authorization: Bearer <token>` (HTTP header or gRPC metadata) for one of them, or it
 * is refused before its body is read: 401 / UNAUTHENTICATED. Each token has its own request
 * budget per window (per collector process): past it, 429 / RESOURCE_EXHAUSTED with
 * Retry-After, which OTLP exporters retry. The token itself is never logged or counted:
 * callers get its name.
 */
export class IngestAuth {
  private readonly byHash: Map<string, string>;

  private readonly limiter: RateLimiterMemory | undefined;

  constructor(private readonly options: IngestAuthOptions) {
    this.byHash = new Map(options.tokens.map((t) => [sha256(t.token), t.name]));
    this.limiter =
      options.tokens.length > 0 && options.rateLimit > 0
        ? new RateLimiterMemory({ keyPrefix: 'ingest', points: options.rateLimit, duration: options.rateWindowSeconds })
        : undefined;
  }

  get enabled(): boolean {
    return this.byHash.size > 0;
  }

  /**
   * Checks an Authorization value. Resolves to the token's name (undefined when auth is off);
   * rejects with the catalog's unauthorized (401) or rate-limited (429, Retry-After) error.
   */
  async check(authorization: string | undefined): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const name = m ? this.lookup(m[1]!) : undefined;
    if (name === undefined) {
      throw errors.unauthorized(
        authorization ? 'the ingest token is not valid' : 'an ingest token is required: send Authorization: Bearer <token>',
      );
    }
    if (this.limiter) {
      try {
        await this.limiter.consume(name);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        this.options.onRateLimited?.(name);
        throw errors.rateLimited(
          `ingest rate limit of ${this.options.rateLimit} requests per ${this.options.rateWindowSeconds} s for this token exceeded, retry later`,
          Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
        );
      }
    }
    return name;
  }

  /** By the token's SHA-256: the comparison never runs over the secret's own characters. */
  private lookup(token: string): string | undefined {
    return this.byHash.get(sha256(token));
  }
}
