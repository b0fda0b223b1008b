import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The repository is self-contained: no file refers to a document outside it (a clone has
 * only the repository). The design is in docs/architecture.md; the configuration in
 * docs/configuration.md. This test reads every text file of the repository and fails on a
 * reference to a document outside it, and on a relative Markdown link that leaves the
 * repository or points at nothing.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const SKIP_DIRS = new Set(['node_modules', 'dist', 'test-results', 'coverage']);
const SKIP_FILES = new Set(['pnpm-lock.yaml']);
const TEXT = /\.(?:ts|tsx|js|mjs|cjs|json|md|ya?ml|sql|html|css|sh|toml|txt|conf|example)$|(?:^|\/)Dockerfile[^/]*$/;

/** Names of documents that live outside the repository (the steering material of its authors). */
const OUTSIDE: [string, RegExp][] = [
  ['the outside ARCHITECTURE.md (use docs/architecture.md)', /ARCHITECTURE\.md/],
  ['the outside STYLE.md', /\bSTYLE\.md/],
  ['a path into the shared steering folder', /(?:\.\.\/)+shared\/|\/work\/shared\b/],
  ['the steering repository', /steering repository/i],
];

export function outsideReferences(text: string): string[] {
  return OUTSIDE.filter(([, re]) => re.test(text)).map(([name]) => name);
}

/** Relative Markdown link targets (no scheme, no pure anchor), without their #anchor. */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.split('#')[0]!);
  }
  return out;
}

function textFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') && e.name !== '.env.example') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) textFiles(p, out);
    } else if (TEXT.test(p) && !SKIP_FILES.has(e.name) && p !== SELF) out.push(p);
  }
  return out;
}

describe('references stay inside the repository', () => {
  it('the checks find what they look for', () => {
    expect(outsideReferences('see [the contract](../shared/ARCHITECTURE.md)')).toEqual([
      'the outside ARCHITECTURE.md (use docs/architecture.md)',
      'a path into the shared steering folder',
    ]);
    expect(outsideReferences('per /work/shared/STYLE.md')).toEqual(['the outside STYLE.md', 'a path into the shared steering folder']);
    expect(outsideReferences('see docs/architecture.md')).toEqual([]);
    expect(relativeLinks('[a](docs/architecture.md#ports) [b](https://x.org) [c](#here) [d](../x.md "t")')).toEqual(['docs/architecture.md', '../x.md']);
  });

  const files = textFiles(ROOT);

  it('reads the repository', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', join('docs', 'architecture.md')]));
  });

  it('no file refers to a document outside the repository', () => {
    const findings = files.flatMap((f) => outsideReferences(readFileSync(f, 'utf8')).map((what) => `${relative(ROOT, f)}: ${what}`));
    expect(findings).toEqual([]);
  });

  it('every relative Markdown link points at a file or folder of the repository', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const f of files.filter((p) => p.endsWith('.md'))) {
      for (const target of relativeLinks(readFileSync(f, 'utf8'))) {
        if (target === '') continue;
        checked++;
        const to = resolve(dirname(f), decodeURI(target));
        if (!(to + sep).startsWith(ROOT) || !existsSync(to)) bad.push(`${relative(ROOT, f)} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });
});
