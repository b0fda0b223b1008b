/**
 * Every workspace package's entry points exist: each `exports` target, `main`, `types` and `bin`.
 * A `flowscope-source` target (what development, tests and tsx load) is a file in the repository;
 * a compiled target (`default`, `types` under dist/ or lib/, what production's plain node loads)
 * is what the package's tsc build makes of that same source file: its tsconfig.build.json
 * includes the source and maps rootDir to outDir, and something builds it (the root
 * tsconfig.build.json of `pnpm build`, or the package's own build script).
 * all-in-one/test/build.int.test.ts runs that build and finds each compiled target on disk.
 * And every `@flowscope/…` specifier imported anywhere is a subpath its package exports, from a
 * package that declares the dependency.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(path, 'utf8');

interface Manifest {
  name: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: string | Record<string, string | Record<string, string>>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

// pnpm-workspace.yaml is a plain list (`packages:` then `  - dir` lines)
const packageDirs = [...read(join(ROOT, 'pnpm-workspace.yaml')).matchAll(/^\s+-\s+['"]?([^'"\s#]+)/gm)].map((m) => m[1]!);
const packages = packageDirs.map((dir) => ({ dir, manifest: JSON.parse(read(join(ROOT, dir, 'package.json'))) as Manifest }));
const byName = new Map(packages.map((p) => [p.manifest.name, p]));

/** tsconfig files are JSON with comments. */
const readJsonc = (path: string): Record<string, unknown> =>
  JSON.parse(read(path).replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1')) as Record<string, unknown>;
const rootBuild = readJsonc(join(ROOT, 'tsconfig.build.json')) as { references: { path: string }[] };
const builtByRoot = new Set(rootBuild.references.map((r) => dirname(r.path)));

interface Target {
  subpath: string;
  condition: string;
  path: string;
}
/** Every file a manifest points at, with the export condition that selects it. */
function targetsOf(manifest: Manifest): Target[] {
  const out: Target[] = [];
  const exportsField = manifest.exports;
  if (typeof exportsField === 'string') out.push({ subpath: '.', condition: 'default', path: exportsField });
  else {
    for (const [subpath, target] of Object.entries(exportsField ?? {})) {
      if (typeof target === 'string') out.push({ subpath, condition: 'default', path: target });
      else for (const [condition, path] of Object.entries(target)) out.push({ subpath, condition, path });
    }
  }
  if (manifest.main) out.push({ subpath: 'main', condition: 'default', path: manifest.main });
  if (manifest.types) out.push({ subpath: 'types', condition: 'types', path: manifest.types });
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, path] of Object.entries(bin)) out.push({ subpath: `bin ${name}`, condition: 'default', path });
  return out;
}

/** The compiled file tsc's build of `dir` makes from a source file, or why it makes none. */
function compiledFrom(dir: string, source: string, kind: 'js' | 'types'): string {
  const configPath = join(ROOT, dir, 'tsconfig.build.json');
  if (!existsSync(configPath)) return `no tsconfig.build.json in ${dir}`;
  const config = readJsonc(configPath) as { compilerOptions: { rootDir: string; outDir: string; declaration?: boolean }; include: string[] };
  const { rootDir, outDir, declaration } = config.compilerOptions;
  const fromRoot = relative(rootDir, source);
  if (fromRoot.startsWith('..')) return `${source} is outside rootDir ${rootDir}`;
  const included = config.include.some((glob) => glob === normalize(source) || (glob.endsWith('/**/*.ts') && normalize(source).startsWith(glob.slice(0, -'**/*.ts'.length))));
  if (!included) return `${source} is not in the build's include`;
  if (kind === 'types' && !declaration) return `the build of ${dir} emits no declarations`;
  const built = builtByRoot.has(dir) || /\btsc\b.*tsconfig\.build\.json/.test(JSON.stringify(config) + (packages.find((p) => p.dir === dir)?.manifest.scripts?.build ?? ''));
  if (!built) return `nothing builds ${dir}`;
  return normalize(join(outDir, fromRoot.replace(/\.ts$/, kind === 'js' ? '.js' : '.d.ts')));
}

describe('workspace package entry points', () => {
  it('the workspace has the packages the checks below expect', () => {
    expect(packages.map((p) => p.manifest.name)).toEqual(expect.arrayContaining(['@flowscope/common', '@flowscope/all-in-one', '@flowscope/instrumentation', '@flowscope/ui']));
    expect(packages.flatMap((p) => targetsOf(p.manifest)).length).toBeGreaterThan(15);
  });

  it.each(packages.map((p) => [p.manifest.name, p] as const))('%s: every exports/main/types/bin target exists in source or is what its build emits', (_name, { dir, manifest }) => {
    for (const target of targetsOf(manifest)) {
      const what = `${dir} ${target.subpath} [${target.condition}] ${target.path}`;
      expect(target.path, what).toMatch(/^\.\//);
      const path = normalize(target.path);
      const compiled = /^(dist|lib)\//.test(path);
      if (!compiled) {
        expect(existsSync(join(ROOT, dir, path)), what).toBe(true);
        continue;
      }
      // a compiled target is the build output of the same subpath's source file
      const source = targetsOf(manifest).find((t) => t.subpath === target.subpath && t.condition === 'flowscope-source');
      expect(source, `${what}: no flowscope-source beside it`).toBeDefined();
      expect(existsSync(join(ROOT, dir, source!.path)), source!.path).toBe(true);
      expect(compiledFrom(dir, normalize(source!.path), target.condition === 'types' ? 'types' : 'js'), what).toBe(path);
    }
  });

  it('a package with no exports is a process nothing imports (an entry script) or holds no code but its tests (configuration files)', () => {
    const exportless = packages.filter((p) => p.manifest.exports === undefined && p.manifest.main === undefined);
    expect(exportless.map((p) => p.manifest.name)).toContain('@flowscope/all-in-one');
    for (const { dir, manifest } of exportless) {
      const entries = ['src/main.ts', 'run.ts', 'src/demo.ts'].filter((f) => existsSync(join(ROOT, dir, f)));
      const configOnly = !existsSync(join(ROOT, dir, 'src')) && !readdirSync(join(ROOT, dir)).some((f) => /\.(m?ts|tsx)$/.test(f));
      expect(entries.length > 0 || configOnly, `${manifest.name} exports nothing, has code and no entry script`).toBe(true);
    }
  });

  it('the check is not vacuous: a target to a missing source, or one the build does not emit, is caught', () => {
    expect(compiledFrom('common', 'src/index.ts', 'js')).toBe('dist/index.js');
    expect(compiledFrom('instrumentation', 'src/web.ts', 'types')).toBe('dist/web.d.ts');
    expect(compiledFrom('common', 'src/index.ts', 'types')).toMatch(/emits no declarations/);
    expect(compiledFrom('ui', 'src/app.tsx', 'js')).toMatch(/not in the build's include/);
    expect(compiledFrom('grafana', 'src/index.ts', 'js')).toMatch(/no tsconfig\.build\.json/);
    expect(existsSync(join(ROOT, 'all-in-one', 'src/index.ts'))).toBe(false);
  });
});

describe('imports of workspace packages', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (['node_modules', 'dist', 'lib'].includes(e.name) || e.name.startsWith('.')) return [];
      const path = join(dir, e.name);
      return e.isDirectory() ? files(path) : /\.(m?ts|tsx|mjs)$/.test(e.name) ? [path] : [];
    });
  const imports = packages.flatMap(({ dir, manifest }) =>
    files(join(ROOT, dir)).flatMap((file) =>
      [...read(file).matchAll(/(?:from |import\()'(@flowscope\/[^'/]+)(\/[^']+)?'/g)].map((m) => ({ file: relative(ROOT, file), importer: manifest, name: m[1]!, subpath: `.${m[2] ?? ''}` })),
    ),
  );

  it('finds the imports', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports.some((i) => i.subpath === './testing')).toBe(true);
  });

  it('every @flowscope/… import names a subpath its package exports, and the importer depends on it', () => {
    for (const i of imports) {
      const what = `${i.file}: ${i.name}${i.subpath.slice(1)}`;
      const target = byName.get(i.name);
      expect(target, what).toBeDefined();
      const exportsField = target!.manifest.exports;
      const subpaths = typeof exportsField === 'string' ? ['.'] : Object.keys(exportsField ?? {});
      expect(subpaths, what).toContain(i.subpath);
      if (i.importer.name !== i.name) expect({ ...i.importer.dependencies, ...i.importer.devDependencies }, what).toHaveProperty([i.name]);
    }
  });
});
