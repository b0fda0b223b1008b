/**
 * Sanitisation at the source, with the collector's rules: this is a copy of the rules of
 * collector/src/redact.ts (the package is published and cannot depend on the private collector);
 * test/redact-parity.test.ts runs both on the same cases and fails when they differ.
 *
 * An attribute whose key, lowercased and with everything but letters and digits removed,
 * contains one of the fragments has its value replaced by `***REDACTED***`; with value scrubbing
 * (the default) secrets inside every other string are replaced too: URL user info and query
 * values, `password=`-style pairs, Bearer/Basic credentials, JSON Web Tokens, well-known key
 * shapes, and the literals of SQL in `db.statement` / `db.query.text`. The span processor applies
 * this to attributes, event names and attributes, link attributes, span names and status
 * messages before the span is exported.
 */

export const REDACTED = '***REDACTED***';

/**
 * Default secret-name fragments. A key is secret when, lowercased and with everything but
 * letters and digits removed, it contains one of these. "http.request.header.authorization",
 * "db.password", "x-api-key", "aws_secret_access_key", "ssh.passphrase", "db.pwd" and
 * "session_token" all match.
 */
export const DEFAULT_REDACT_KEYS = [
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
] as const;

/** Attribute keys holding SQL: their string and number literals become `?` (OpenTelemetry's sanitisation). */
export const SQL_KEYS = new Set(['db.statement', 'db.query.text', 'db.query', 'sql', 'sql.query']);

/** Names of `name=value` / `name: value` pairs whose value is secret, wherever they appear in a string. */
const SECRET_PAIR =
  /\b((?:[a-z0-9]+[_.-])*(?:password|passwd|passphrase|pwd|pass|secret|token|jwt|api[_-]?key|access[_-]?key|private[_-]?key|auth|credentials?|session[_-]?id|sig|signature))(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|(?![?$])[^\s,;&"'<>)]+)/gi;

/**
 * The value scrubbers every string goes through (attributes, event names, status messages,
 * span names). Each replaces the secret part and keeps the rest readable.
 */
const BUILT_IN: Array<[RegExp, string]> = [
  // user info in any URL: scheme://user:password@host → scheme://***REDACTED***@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, `$1${REDACTED}@`],
  // query string values: ?a=1&b=2 → ?a=***REDACTED***&b=***REDACTED***
  [/([?&;][^\s=&#?;"'<>]+=)[^\s&#;"'<>]*/g, `$1${REDACTED}`],
  // Bearer / Basic credentials, and JSON Web Tokens anywhere
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // password=…, "token": "…", Password=…; (connection strings)
  [SECRET_PAIR, `$1$2${REDACTED}`],
  // well-known key shapes: AWS access key ids, GitHub/Slack/Stripe tokens, PEM private keys
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_(?:live|test)_[A-Za-z0-9]{10,})\b/g, REDACTED],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
];

/** Cheap test before the scrubbers: a string with none of these cannot match any of them. */
const MAYBE_SECRET = /[=@?:&;]|eyJ|bearer|basic|token|akia|asia|gh[pousr]_|xox|sk_|-----BEGIN/i;

const SQL_STRING = /(?:\b[EeXxBbNn])?'(?:[^']|'')*'/g;
const SQL_NUMBER = /(?<![\w$.])-?\d+(?:\.\d+)?(?![\w.])/g;

/** SQL with its literals replaced by `?` (identifiers, keywords and placeholders kept). */
export function sanitizeSql(sql: string): string {
  return sql.replace(SQL_STRING, '?').replace(SQL_NUMBER, '?');
}

const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

export interface RedactorOptions {
  /** Scrub values too (URLs, secret pairs, tokens, SQL literals), not only secret-named keys. */
  values?: boolean;
  /** More patterns (regular expression sources, case-insensitive); every match becomes ***REDACTED***. */
  patterns?: readonly string[];
}

export class Redactor {
  private readonly fragments: string[];
  private readonly cache = new Map<string, boolean>();
  private readonly values: boolean;
  private readonly extra: RegExp[];

  constructor(keys: readonly string[] = DEFAULT_REDACT_KEYS, options: RedactorOptions = {}) {
    this.fragments = keys.map(normalise).filter((k) => k.length > 0);
    this.values = options.values ?? true;
    this.extra = (options.patterns ?? []).map((p) => new RegExp(p, 'gi'));
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

  /** A string with the secrets inside it replaced; the same string when there are none. */
  scrub(v: string, key?: string): string {
    let out = v;
    for (const re of this.extra) out = out.replace(re, REDACTED);
    if (!this.values) return out;
    if (key !== undefined && SQL_KEYS.has(key)) out = sanitizeSql(out);
    if (!MAYBE_SECRET.test(out)) return out;
    for (const [re, by] of BUILT_IN) out = out.replace(re, by);
    return out;
  }

  private value(v: unknown, key: string | undefined, count: { n: number }): unknown {
    if (typeof v === 'string') {
      const s = this.scrub(v, key);
      if (s !== v) count.n++;
      return s;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.value(v[i], key, count);
      return v;
    }
    if (typeof v === 'object' && v !== null) {
      count.n += this.attributes(v as Record<string, unknown>);
      return v;
    }
    return v;
  }

  /** Replaces the values of secret-named keys and the secrets inside other values, at any depth, in place. Returns how many. */
  attributes(attrs: Record<string, unknown>): number {
    const count = { n: 0 };
    for (const key of Object.keys(attrs)) {
      if (this.isSecret(key)) {
        attrs[key] = REDACTED;
        count.n++;
        continue;
      }
      attrs[key] = this.value(attrs[key], key, count);
    }
    return count.n;
  }

  /** A name or message with its secrets scrubbed; counts a change. */
  text(v: string, count: { n: number }): string {
    const s = this.scrub(v);
    if (s !== v) count.n++;
    return s;
  }
}
