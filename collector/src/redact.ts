import type { DecodedExport } from './model.ts';

export const REDACTED = '***REDACTED***';

/**
 * Default secret-name fragments. A key is secret when, lowercased and with everything but
 * letters and digits removed, it contains one of these. "http.request.header.authorization",
 * "db.password", "x-api-key", "aws_secret_access_key" and "session_token" all match.
 */
export const DEFAULT_REDACT_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'cookie',
  'apikey',
  'privatekey',
  'accesskey',
  'secretkey',
  'signingkey',
  'credential',
  'sessionid',
] as const;

const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

export class Redactor {
  private readonly fragments: string[];
  private readonly cache = new Map<string, boolean>();

  constructor(keys: readonly string[] = DEFAULT_REDACT_KEYS) {
    this.fragments = keys.map(normalise).filter((k) => k.length > 0);
  }

  isSecret(key: string): boolean {
    let hit = this.cache.get(key);
    if (hit === undefined) {
      const n = normalise(key);
      hit = this.fragments.some((f) => n.includes(f));
      if (this.cache.size < 10_000) this.cache.set(key, hit);
    }
    return hit;
  }

  /** Replaces the values of secret-named keys, at any depth, in place. Returns how many. */
  attributes(attrs: Record<string, unknown>): number {
    let n = 0;
    for (const key of Object.keys(attrs)) {
      const v = attrs[key];
      if (this.isSecret(key)) {
        attrs[key] = REDACTED;
        n++;
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        n += this.attributes(v as Record<string, unknown>);
      } else if (Array.isArray(v)) {
        for (const item of v) {
          if (typeof item === 'object' && item !== null && !Array.isArray(item)) n += this.attributes(item as Record<string, unknown>);
        }
      }
    }
    return n;
  }

  /** The redact stage: every attribute map of the request, before anything is stored or logged. */
  export(req: DecodedExport): number {
    let n = 0;
    for (const rs of req.resourceSpans) {
      n += this.attributes(rs.resource);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          n += this.attributes(s.attributes);
          for (const e of s.events) n += this.attributes(e.attributes);
          for (const l of s.links) n += this.attributes(l.attributes);
        }
      }
    }
    return n;
  }
}
