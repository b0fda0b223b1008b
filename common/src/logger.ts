import { pino, type Logger, type LevelWithSilent, type TransportTargetOptions } from 'pino';
import { z } from 'zod';
import { envString, envInt } from './config.ts';

export const loggingConfigShape = {
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => (v ?? 'info').toLowerCase())
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .describe('Log level: fatal, error, warn, info, debug, trace or silent (any letter case).'),
  LOG_FILE_PATH: envString().describe('Also write logs to this file, rotated by size.'),
  FLOWSCOPE_LOG_FILE_MAX_MB: envInt(50, 1, 100_000).describe('Rotate the log file when it reaches this many megabytes.'),
  FLOWSCOPE_LOG_FILE_KEEP: envInt(5, 1, 1000).describe('How many rotated files to keep.'),
};

export interface LoggingConfig {
  LOG_LEVEL: LevelWithSilent;
  LOG_FILE_PATH?: string | undefined;
  FLOWSCOPE_LOG_FILE_MAX_MB: number;
  FLOWSCOPE_LOG_FILE_KEEP: number;
}

/**
 * Header and attribute paths that never reach a log line. Request logs carry correlation and
 * trace ids as fields, never whole payloads.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  '*.password',
  'token',
  '*.token',
];

/** JSON logs on stdout and, with LOG_FILE_PATH, to a size-rotated file. */
export function createLogger(config: LoggingConfig, name: string, output: { stdout?: boolean } = {}): Logger {
  const targets: TransportTargetOptions[] = [];
  if (config.LOG_FILE_PATH) {
    // `stdout: false` writes to the file only (tests that fill a log file keep the test output quiet).
    if (output.stdout !== false) targets.push({ target: 'pino/file', level: config.LOG_LEVEL, options: { destination: 1 } });
    targets.push({
      target: 'pino-roll',
      level: config.LOG_LEVEL,
      options: {
        file: config.LOG_FILE_PATH,
        size: `${config.FLOWSCOPE_LOG_FILE_MAX_MB}m`,
        limit: { count: config.FLOWSCOPE_LOG_FILE_KEEP },
        mkdir: true,
      },
    });
  }
  const options = {
    name,
    level: config.LOG_LEVEL,
    redact: { paths: LOG_REDACT_PATHS, censor: '***REDACTED***' },
  };
  return targets.length > 0 ? pino(options, pino.transport({ targets })) : pino(options);
}

const SECRET_PARAM = /token|key|secret|passw|pwd|auth|sig|session|code|jwt|credential/i;

/**
 * A request URL fit for a log line: the values of query parameters that may carry a secret
 * (token, api_key, signature, …) are replaced by ***REDACTED***; the path and other
 * parameters are kept.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***REDACTED***` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}
