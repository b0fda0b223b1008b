import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../src/config-doc.ts';

describe('configuration reference', () => {
  it('docs/configuration.md is what the schemas generate (run `npx pnpm@10.34.8 config-doc` after changing one)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });

  it('documents every variable, including the ones the old system used', () => {
    const doc = renderConfigReference();
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    for (const row of rows) expect(row.split('|')[4]!.trim(), row).not.toBe('');
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'DEBUGGING_ENABLED', 'DEBUGGING_TRACE_SAMPLING_RATE', 'DEBUGGING_MAX_TRACE_DURATION', 'DEBUGGING_PERFORMANCE_MONITORING', 'DEBUGGING_ERROR_LOGGING', 'DEBUGGING_API_RESPONSE_TIME_WARNING', 'DEBUGGING_API_RESPONSE_TIME_CRITICAL', 'DEBUGGING_DB_QUERY_TIME_WARNING', 'DEBUGGING_DB_QUERY_TIME_CRITICAL', 'WEBSOCKET_ENABLED', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'LOG_LEVEL', 'LOG_FILE_PATH']) {
      expect(doc).toContain(`| \`${name}\` |`);
    }
    expect(doc).toMatch(/\| `DEBUGGING_TRACE_SAMPLING_RATE` \| `0.1` \|/);
  });
});
