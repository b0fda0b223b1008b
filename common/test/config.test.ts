import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError, createLogger, envBool, envInt, envList, envString, loggingConfigShape, parseConfig, sharedConfigShape,
} from '../src/index.ts';

describe('configuration', () => {
  it.each([
    ['True', true],
    ['False', false],
    ['TRUE', true],
    ['false', false],
    ['1', true],
    ['0', false],
    [undefined, true],
  ])('boolean %s → %s', (value, expected) => {
    expect(parseConfig({ X: envBool(true) }, { X: value }).X).toBe(expected);
  });

  it('reports every bad variable by name at once, hiding secret values', () => {
    let error: unknown;
    try {
      parseConfig(
        { DEBUGGING_ENABLED: envBool(true), FLOWSCOPE_COLLECTOR_PORT: envInt(4318, 0, 65535), EMAIL_HOST_PASSWORD: envInt(0) },
        { DEBUGGING_ENABLED: 'yes', FLOWSCOPE_COLLECTOR_PORT: '70000', EMAIL_HOST_PASSWORD: 'hunter2' },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/DEBUGGING_ENABLED: expected true\/false or 1\/0/);
    expect(message).toMatch(/FLOWSCOPE_COLLECTOR_PORT: must be between 0 and 65535, got 70000/);
    expect(message).toMatch(/EMAIL_HOST_PASSWORD/);
    expect(message).not.toMatch(/hunter2/);
  });

  it('lists split on commas and drop blanks', () => {
    expect(parseConfig({ L: envList(['a']) }, { L: ' x, ,y ' }).L).toEqual(['x', 'y']);
    expect(parseConfig({ L: envList(['a']) }, {}).L).toEqual(['a']);
  });
});

describe('logger', () => {
  it('writes to LOG_FILE_PATH, honours LOG_LEVEL and redacts authorization headers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-log-'));
    const file = join(dir, 'flowscope.log');
    const config = parseConfig(loggingConfigShape, { LOG_LEVEL: 'WARN', LOG_FILE_PATH: file });
    const logger = createLogger(config, 'test', { stdout: false });
    logger.info('not written: below the level');
    logger.warn({ req: { headers: { authorization: 'Bearer sekrit' } } }, 'written');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    // The file transport runs in a worker thread; wait (bounded) for the line to land.
    let text = '';
    for (let i = 0; i < 100 && !text.includes('written'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const files = readdirSync(dir).filter((f) => f.startsWith('flowscope'));
      text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    }
    expect(text).toContain('"msg":"written"');
    expect(text).not.toContain('below the level');
    expect(text).not.toContain('sekrit');
    expect(text).toContain('***REDACTED***');
  });

  it('rotates the file at FLOWSCOPE_LOG_FILE_MAX_MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-rot-'));
    const file = join(dir, 'flowscope.log');
    const logger = createLogger(parseConfig(loggingConfigShape, { LOG_FILE_PATH: file, FLOWSCOPE_LOG_FILE_MAX_MB: '1' }), 'test', { stdout: false });
    const line = 'x'.repeat(1000);
    for (let i = 0; i < 2500; i++) logger.info({ i, line }, 'filler'); // ~2.6 MB
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    let files: string[] = [];
    for (let i = 0; i < 100 && files.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      files = readdirSync(dir).filter((f) => f.startsWith('flowscope'));
    }
    expect(files.length).toBeGreaterThanOrEqual(2);
  });
});

describe('shared configuration fragment', () => {
  it('defaults are present (typed as string/number, not undefined) and values parse once for every process', () => {
    const c = parseConfig(sharedConfigShape, {});
    const prefix: string = c.FLOWSCOPE_REDIS_PREFIX; // compiles only because the default makes it present
    expect([prefix, c.REDIS_URL, c.DEBUGGING_API_RESPONSE_TIME_WARNING, c.DEBUGGING_API_RESPONSE_TIME_CRITICAL, c.DEBUGGING_DB_QUERY_TIME_WARNING, c.DEBUGGING_DB_QUERY_TIME_CRITICAL]).toEqual([
      'flowscope:', undefined, 200, 500, 50, 100,
    ]);
    const set = parseConfig(sharedConfigShape, { REDIS_URL: 'redis://127.0.0.1:6379', FLOWSCOPE_REDIS_PREFIX: 'fs2:', DEBUGGING_DB_QUERY_TIME_CRITICAL: '250' });
    expect([set.REDIS_URL, set.FLOWSCOPE_REDIS_PREFIX, set.DEBUGGING_DB_QUERY_TIME_CRITICAL]).toEqual(['redis://127.0.0.1:6379', 'fs2:', 250]);
    expect(() => parseConfig(sharedConfigShape, { REDIS_URL: 'not a url', DEBUGGING_API_RESPONSE_TIME_CRITICAL: '-1' })).toThrow(/REDIS_URL[\s\S]*DEBUGGING_API_RESPONSE_TIME_CRITICAL|DEBUGGING_API_RESPONSE_TIME_CRITICAL[\s\S]*REDIS_URL/);
  });

  it('envString without a default stays optional; an empty value takes the default', () => {
    expect(parseConfig({ A: envString(), B: envString('b') }, { A: '', B: '' })).toEqual({ A: undefined, B: 'b' });
  });
});
