/**
 * Sanitisation at the source equals the collector's: src/redact.ts is a copy of the collector's
 * rules (the published package cannot depend on the private collector), and this test runs both
 * on the same cases (keys and values, names, nested attributes, options), so a change to one
 * that is not made to the other fails here.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS as COLLECTOR_KEYS, Redactor as CollectorRedactor, REDACTED as COLLECTOR_REDACTED } from '@flowscope/collector';
import { DEFAULT_REDACT_KEYS, REDACTED, Redactor } from '../src/index.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

/** [key, value]: every value scrubber, every SQL key, and values that must stay as they are. */
const VALUE_CASES: Array<[string | undefined, string]> = [
  ['url.full', 'https://shop.example.com/cb?code=1&access_token=abc123&state=xyz'],
  ['http.url', 'postgres://app:hunter2@db.internal:5432/shop'],
  ['http.target', '/search?q=tea&page=2'],
  ['url.query', 'a=1;b=2'],
  ['http.request.header.x-trace', 'Bearer abcdefghijklmnop'],
  ['message', 'Basic dXNlcjpwYXNzd29yZA=='],
  ['message', `token ${JWT} expired`],
  ['log', 'connecting with password=hunter2 and user=ada'],
  ['log', '{"api_key": "k-123", "name": "ada"}'],
  ['log', "Server=db;Database=shop;User Id=sa;Password=Sup3r;"],
  ['log', 'session_id: 9f8e7d'],
  ['log', 'login pass=abc sig=xyz auth: q1 credentials=c2'],
  ['log', 'aws key AKIAABCDEFGHIJKLMNOP in config'],
  ['log', 'github ghp_abcdefghijklmnopqrstuvwxyz0123456789 and slack xoxb-1234567890-abcdef'],
  ['log', 'stripe sk_live_abcdefghij12345'],
  ['log', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----'],
  ['db.statement', "SELECT * FROM users WHERE email = 'ada@example.com' AND age > 30 AND id = $1"],
  ['db.query.text', "UPDATE cards SET number = '4111111111111111', cvv = 123 WHERE id = 7"],
  ['sql', "INSERT INTO t (a, b) VALUES (E'x''y', -1.5)"],
  ['db.statement', 'SELECT 1'],
  ['user.name', 'ada'],
  ['http.route', '/api/orders/:id'],
  ['note', 'ratio 3:2 at 10:30, e-mail ada@example.com'],
  ['note', 'price=12&qty=3'],
  [undefined, 'GET /cb?code=secret-code'],
  [undefined, 'failed: password: hunter2'],
  [undefined, 'plain span name'],
];

const KEY_CASES = [
  'password', 'db.password', 'x-api-key', 'aws_secret_access_key', 'session_token', 'sessionId', 'http.request.header.cookie',
  'http.request.header.authorization', 'user.id', 'token_count_x', 'passage', 'ssh.passphrase', 'db.pwd', 'payment.card_number', 'iban',
  'connection_string', 'privateKey', 'user.name', 'http.method',
];

const attrs = (): Record<string, unknown> => ({
  'user.password': 'hunter2',
  'url.full': 'https://a.example/?token=t0k3n&x=1',
  'db.statement': "SELECT * FROM t WHERE name = 'ada'",
  count: 3,
  ok: true,
  list: ['password=a', 'plain', `Bearer ${JWT}`],
  nested: { api_key: 'k', inner: { note: 'https://u:p@host/' }, text: 'fine' },
  'http.request.header.authorization': ['Bearer x'],
});

const OPTIONS: Array<[string, { values?: boolean; patterns?: string[] } | undefined]> = [
  ['defaults', undefined],
  ['values off', { values: false }],
  ['extra patterns', { patterns: ['order-secret-[0-9]+', 'tea'] }],
  ['extra patterns, values off', { values: false, patterns: ['ada'] }],
];

describe('source-side redaction = collector redaction', () => {
  it('same marker and default key fragments', () => {
    expect(REDACTED).toBe(COLLECTOR_REDACTED);
    expect([...DEFAULT_REDACT_KEYS]).toEqual([...COLLECTOR_KEYS]);
  });

  it.each(KEY_CASES)('classifies the key %s the same', (key) => {
    expect(new Redactor().isSecret(key)).toBe(new CollectorRedactor().isSecret(key));
  });

  it('classifies keys the same with a custom fragment list', () => {
    const keys = ['ssn', 'Pin-Code'];
    for (const key of [...KEY_CASES, 'user.ssn', 'pincode', 'pin']) {
      expect(new Redactor(keys).isSecret(key), key).toBe(new CollectorRedactor(keys).isSecret(key));
    }
  });

  describe.each(OPTIONS)('with %s', (_name, options) => {
    const ours = new Redactor(DEFAULT_REDACT_KEYS, options);
    const theirs = new CollectorRedactor(COLLECTOR_KEYS, options);

    it('scrubs every value case the same', () => {
      const mine = VALUE_CASES.map(([key, value]) => ours.scrub(value, key));
      const collector = VALUE_CASES.map(([key, value]) => theirs.scrub(value, key));
      expect(mine).toEqual(collector);
    });

    it('redacts attribute maps (nested, arrays, non-strings) the same, with the same count', () => {
      const a = attrs();
      const b = attrs();
      const na = ours.attributes(a);
      const nb = theirs.attributes(b);
      expect(a).toEqual(b);
      expect(na).toBe(nb);
    });
  });

  it('the cases exercise the scrubbers (each default-case output differs from its input where a secret is)', () => {
    const r = new Redactor();
    const changed = VALUE_CASES.filter(([key, value]) => r.scrub(value, key) !== value).length;
        expect(changed).toBeGreaterThanOrEqual(20);
    expect(r.scrub('plain span name')).toBe('plain span name');
    expect(r.scrub('postgres://app:hunter2@db/shop')).toBe(`postgres://${REDACTED}@db/shop`);
    expect(r.scrub("SELECT * FROM t WHERE a = 'x'", 'db.statement')).toBe('SELECT * FROM t WHERE a = ?');
  });
});
