/**
 * Sanitisation at the source, with the collector's rules: an attribute whose key, lowercased and
 * with everything but letters and digits removed, contains one of the fragments has its value
 * replaced by `***REDACTED***` before the span leaves the process. The fragments are the
 * collector's defaults (a test checks they stay equal). Query parameters with such names in URL
 * attributes (`url.full`, `http.url`, `url.query`, `http.target`) are redacted the same way, so a
 * `?token=…` never leaves the service either.
 */

export const REDACTED = '***REDACTED***';

export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'jwt',
  'authorization',
  'cookie',
  'apikey',
  'privatekey',
  'accesskey',
  'secretkey',
  'signingkey',
  'credential',
  'sessionid',
  'connectionstring',
  'connstring',
  'creditcard',
  'cardnumber',
  'cvv',
  'iban',
];

const URL_KEYS = new Set(['url.full', 'http.url', 'url.query', 'http.target', 'url.original']);

const normalise = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

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

  /** `?a=1&token=x` → `?a=1&token=***REDACTED***`; anything else unchanged. */
  redactQuery(value: string): string {
    const q = value.indexOf('?');
    const query = q >= 0 ? value.slice(q + 1) : value;
    if (!query.includes('=')) return value;
    let changed = false;
    const parts = query.split('&').map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0) return part;
      let name = part.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      if (!this.isSecret(name)) return part;
      changed = true;
      return `${part.slice(0, eq)}=${REDACTED}`;
    });
    if (!changed) return value;
    return (q >= 0 ? value.slice(0, q + 1) : '') + parts.join('&');
  }

  /** Redacts in place; returns how many values were replaced. */
  attributes(attrs: Record<string, unknown> | undefined): number {
    if (!attrs) return 0;
    let n = 0;
    for (const key of Object.keys(attrs)) {
      const v = attrs[key];
      if (this.isSecret(key)) {
        if (v !== REDACTED) {
          attrs[key] = REDACTED;
          n++;
        }
      } else if (typeof v === 'string' && URL_KEYS.has(key)) {
        const r = this.redactQuery(v);
        if (r !== v) {
          attrs[key] = r;
          n++;
        }
      }
    }
    return n;
  }
}
