/**
 * promtool (Debian's `prometheus` package; .ci/run installs it) checks the scrape configurations
 * and the rules, and runs the rules' unit tests. A broken rule file must fail, so a passing
 * run means something.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const PROMETHEUS = join(import.meta.dirname, '..');

function promtool(args: string[], cwd = PROMETHEUS): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (apt-get install prometheus; .ci/run does it): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('promtool', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'flowscope-promtool-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(['prometheus.yml', 'all-in-one.yml'])('check config %s', (file) => {
    const r = promtool(['check', 'config', file]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('check rules', () => {
    const r = promtool(['check', 'rules', 'rules/flowscope.rules.yml']);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.output).toBe(0);
  });

  it('test rules (the unit tests of every alert)', () => {
    const r = promtool(['test', 'rules', 'tests/flowscope.rules.test.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('fails on a broken rule and on a unit test whose expectation is wrong', () => {
    cpSync(PROMETHEUS, join(scratch, 'p'), { recursive: true });
    const rules = join(scratch, 'p', 'rules', 'flowscope.rules.yml');
    const good = readFileSync(rules, 'utf8');
    writeFileSync(rules, good.replace('expr: up{job=~"flowscope-.*"} == 0', 'expr: up{job=~"flowscope-.*" == 0'));
    expect(promtool(['check', 'rules', 'rules/flowscope.rules.yml'], join(scratch, 'p')).status).not.toBe(0);
    writeFileSync(rules, good.replace('> 0.05', '> 0.5'));
    expect(promtool(['test', 'rules', 'tests/flowscope.rules.test.yml'], join(scratch, 'p')).status).not.toBe(0);
  });
});
