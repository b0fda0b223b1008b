import { z } from 'zod';

/**
 * Configuration primitives. Every process builds one zod object from the fragments its
 * modules export and parses `process.env` once, in its main.ts; nothing else reads the
 * environment. Variable names are the environment names themselves, so an error names the
 * variable an operator has to fix.
 */

/** Booleans as the old system's files write them: true/false in any case, and 1/0. */
export const envBool = (defaultValue: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return defaultValue;
      const lower = v.toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      ctx.addIssue({ code: 'custom', message: `expected true/false or 1/0, got "${v}"` });
      return z.NEVER;
    });

const numberFrom = (v: string | undefined, ctx: z.RefinementCtx, int: boolean): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) {
    ctx.addIssue({ code: 'custom', message: `expected ${int ? 'an integer' : 'a number'}, got "${v}"` });
    return undefined;
  }
  return n;
};

/** An integer in [min, max] with a default. */
export const envInt = (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const n = numberFrom(v, ctx, true);
      if (n === undefined) return defaultValue;
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

/** A number in [min, max] with a default. */
export const envNumber = (defaultValue: number, min = -Infinity, max = Infinity) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const n = numberFrom(v, ctx, false);
      if (n === undefined) return defaultValue;
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

/** A comma-separated list. */
export const envList = (defaultValue: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? [...defaultValue]
        : v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
    );

/** A string; with a default it is typed as always present, without one as possibly undefined. */
export function envString(defaultValue: string): z.ZodPipe<z.ZodOptional<z.ZodString>, z.ZodTransform<string, string | undefined>>;
export function envString(): z.ZodPipe<z.ZodOptional<z.ZodString>, z.ZodTransform<string | undefined, string | undefined>>;
export function envString(defaultValue?: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? defaultValue : v));
}

/** A URL (or unset). */
export const envUrl = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      try {
        new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid URL' });
        return z.NEVER;
      }
      return v;
    });

/**
 * Keys several processes share, defined once so they mean the same everywhere (in the
 * all-in-one the fragments merge into one schema and a second definition would silently win).
 */
export const redisConfigShape = {
  REDIS_URL: envUrl().describe(
    'Redis. Collector: replicas share sampling decisions and trace workflows; query API: rate limits and live events across replicas; alerting: BullMQ jobs (unset: the in-process scheduler, all-in-one only).',
  ),
  FLOWSCOPE_REDIS_PREFIX: envString('flowscope:').describe('Prefix of every Redis key and channel, separator included (several installs can share one Redis).'),
};

/** The latency thresholds of the replaced system (ms): alert rule thresholds, and the collector keeps every trace over a critical one. */
export const thresholdConfigShape = {
  DEBUGGING_API_RESPONSE_TIME_WARNING: envNumber(200, 0).describe('Warning threshold (ms) of the seeded api-layer p95 latency rule.'),
  DEBUGGING_API_RESPONSE_TIME_CRITICAL: envNumber(500, 0).describe('Critical threshold (ms) of api-layer spans: over it the trace is always kept; also the seeded api p95 rule.'),
  DEBUGGING_DB_QUERY_TIME_WARNING: envNumber(50, 0).describe('Warning threshold (ms) of the seeded database-layer p95 latency rule.'),
  DEBUGGING_DB_QUERY_TIME_CRITICAL: envNumber(100, 0).describe('Critical threshold (ms) of database and cache spans: over it the trace is always kept; also the seeded database p95 rule.'),
};

/** Retry-After of every process that refuses work it cannot take now (429/503). */
export const retryAfterConfigShape = {
  FLOWSCOPE_RETRY_AFTER_SECONDS: envInt(2, 1, 3600).describe('Retry-After on 429/503, and the storage probe interval while it is down.'),
};

/** The workflow time-out of the replaced system (the alerting worker marks workflows past it). */
export const workflowTimeoutConfigShape = {
  DEBUGGING_MAX_TRACE_DURATION: envInt(300_000, 1000).describe('A workflow still in progress this long after its start is marked timed out (ms).'),
};

/** The configuration fragment of the keys shared by several processes. */
export const sharedConfigShape = { ...redisConfigShape, ...thresholdConfigShape };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` against a shape of env-var-named fields and reports every bad variable at once.
 * Secrets are never echoed back: messages name the variable and the rule, not the value,
 * for fields whose name looks secret.
 */
export function parseConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined>,
): z.output<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const secret = /PASSWORD|TOKEN|SECRET/i.test(name);
    const message = secret ? issue.message.replace(/"[^"]*"/g, '(hidden)') : issue.message;
    return `${name}: ${message}`;
  });
  throw new ConfigError(problems);
}

/**
 * For a process's main.ts: parses the environment once; on a bad value prints every problem,
 * naming the variables, and exits with status 2.
 */
export function loadConfigOrExit<S extends z.ZodRawShape>(
  shape: S,
  processName: string,
  env: Record<string, string | undefined> = process.env,
  /** Checks across variables (each problem names its variables), run on the parsed values. */
  check?: (config: z.output<z.ZodObject<S>>) => string[],
): z.output<z.ZodObject<S>> {
  try {
    const config = parseConfig(shape, env);
    const problems = check?.(config) ?? [];
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${processName}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
