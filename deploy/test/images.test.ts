/**
 * What can be known about the images without a Docker engine (none runs here, so `docker build`
 * is never run by the tests; all-in-one/test/build.int.test.ts assembles the production stage's
 * files and runs them with plain node instead):
 *
 * - deploy/Dockerfile passes the Dockerfile linter of the Docker language server
 *   (`dockerfile-utils`: instructions, flags, arguments, one HEALTHCHECK/CMD per stage);
 * - every COPY from the build context names files that exist and that the build context keeps
 *   (deploy/Dockerfile.dockerignore read with Docker's own matching rules, `@balena/dockerignore`),
 *   and the context keeps every tracked file the build needs;
 * - every COPY --from=build names a file of the repository or an output of `pnpm build` (a
 *   package's tsc outDir, the UI's vite outDir), and each stage's CMD is a compiled entry point;
 * - the port each process listens on, as its configuration schema computes it from the image's,
 *   compose's and the ConfigMap's environment, is the one EXPOSEd, published, probed and scraped;
 * - every probe path is a route the processes' shared ops routes serve (on a real Fastify).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, normalize } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { alertingConfigShape } from '@flowscope/alerting';
import { collectorConfigShape } from '@flowscope/collector';
import { parseConfig, registerOpsRoutes } from '@flowscope/common';
import { queryApiConfigShape } from '@flowscope/query-api';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(path, 'utf8');
const dockerfileText = read(join(DEPLOY, 'Dockerfile'));
const dockerfile = DockerfileParser.parse(dockerfileText);
// CommonJS (`module.exports = factory`) whose types declare a default export, which NodeNext
// resolution then misreads: the part of its API used here, typed by hand
interface DockerIgnore {
  add(patterns: string[]): DockerIgnore;
  ignores(path: string): boolean;
}
const ignore = createRequire(import.meta.url)('@balena/dockerignore') as (options: { ignorecase: boolean }) => DockerIgnore;
const dockerignore = ignore({ ignorecase: false }).add(read(join(DEPLOY, 'Dockerfile.dockerignore')).split('\n'));

/** The instructions of each stage, by stage name. */
const stages = new Map<string, Instruction[]>();
{
  let current = '';
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      current = instruction.getArguments().at(-1)!.getValue();
      stages.set(current, []);
    } else stages.get(current)!.push(instruction);
  }
}
const args = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
const fromFlag = (i: Instruction): string | undefined =>
  (i as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags?.().find((f) => f.getName() === 'from')?.getValue() ?? undefined;
const copies = [...stages].flatMap(([stage, instructions]) =>
  instructions.filter((i) => i.getKeyword() === 'COPY').map((i) => ({ stage, from: fromFlag(i), sources: args(i).slice(0, -1), dest: args(i).at(-1)! })),
);

/** Readers of tsconfig files (JSON with comments). */
const readJsonc = <T>(path: string): T => JSON.parse(read(path).replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1')) as T;
/** What `pnpm build` writes: each referenced package's tsc outDir, and the UI's vite outDir. */
const buildOutputs = (() => {
  const root = readJsonc<{ references: { path: string }[] }>(join(ROOT, 'tsconfig.build.json'));
  const out = root.references.map((r) => {
    const dir = r.path.replace(/\/tsconfig\.build\.json$/, '');
    const { compilerOptions } = readJsonc<{ compilerOptions: { outDir: string } }>(join(ROOT, r.path));
    return normalize(`${dir}/${compilerOptions.outDir}`);
  });
  const vite = /outDir:\s*'([^']+)'/.exec(read(join(ROOT, 'ui/vite.config.ts')));
  const rootScripts = (JSON.parse(read(join(ROOT, 'package.json'))) as { scripts: Record<string, string> }).scripts;
  expect(rootScripts.build).toContain('pnpm ui:build');
  expect(rootScripts.build).toContain('tsc -b tsconfig.build.json');
  if (vite) out.push(normalize(`ui/${vite[1]}`));
  return out;
})();

/** The port each process listens on, as its configuration schema computes it from an environment. */
const PORTS = {
  collector: { http: 'FLOWSCOPE_COLLECTOR_PORT', grpc: 'FLOWSCOPE_COLLECTOR_GRPC_PORT', shape: collectorConfigShape },
  'query-api': { http: 'FLOWSCOPE_QUERY_PORT', grpc: undefined, shape: queryApiConfigShape },
  alerting: { http: 'FLOWSCOPE_ALERTING_METRICS_PORT', grpc: undefined, shape: alertingConfigShape },
} as const;
type ProcessName = keyof typeof PORTS;
const NAMES = Object.keys(PORTS) as ProcessName[];
function listens(name: ProcessName, env: Record<string, string | undefined>): number[] {
  const { http, grpc, shape } = PORTS[name];
  const config = parseConfig(shape, { DATABASE_URL: 'postgres://x@127.0.0.1/x', ...env }) as Record<string, unknown>;
  return [config[http] as number, ...(grpc ? [config[grpc] as number] : [])];
}
/** ENV lines of a Dockerfile stage and of the stages it is built on. */
function imageEnv(stage: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of ['base', stage]) {
    for (const i of stages.get(s)!.filter((x) => x.getKeyword() === 'ENV')) {
      for (const pair of args(i)) {
        const [k, v] = pair.split('=');
        if (k && v !== undefined) env[k] = v;
      }
    }
  }
  return env;
}

describe('deploy/Dockerfile: lint, build context, COPY sources', () => {
  it('passes the Docker language server\'s Dockerfile linter, which does catch a broken file', () => {
    expect(lintDockerfile(dockerfileText).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    const broken = lintDockerfile(`${dockerfileText}\nHEALTHCHECK --intervall=5s CMD true\nEXPOS 80\n`).map((d) => d.message);
    expect(broken).toEqual(expect.arrayContaining(['Unknown flag: intervall', 'Unknown instruction: EXPOS']));
  });

  it('finds the stages and copies it checks', () => {
    expect([...stages.keys()]).toEqual(['manifests', 'build', 'base', 'collector', 'query-api', 'alerting', 'all-in-one']);
    expect(copies.filter((c) => c.from === undefined).length).toBeGreaterThan(10);
    expect(copies.filter((c) => c.from === 'build').length).toBeGreaterThan(8);
  });

  it('every COPY from the context names files that exist and that the build context keeps', () => {
    for (const { stage, sources } of copies.filter((c) => c.from === undefined)) {
      for (const source of sources) {
        if (source === '.') continue;
        const path = normalize(source).replace(/\/$/, '');
        expect(existsSync(join(ROOT, path)), `${stage}: COPY ${source}`).toBe(true);
        expect(dockerignore.ignores(path), `${stage}: COPY ${source} is excluded by Dockerfile.dockerignore`).toBe(false);
      }
    }
  });

  it('the context keeps every tracked file but CI\'s, and leaves out dependencies, builds and local secrets', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(tracked.length).toBeGreaterThan(200);
    expect(tracked.filter((f) => dockerignore.ignores(f) && !f.startsWith('.ci/'))).toEqual([]);
    for (const path of ['node_modules/x', 'collector/node_modules/x', 'collector/dist/main.js', 'ui/lib/index.js', 'ui/dist/index.html', 'deploy/.env', 'storage/dist/x.tsbuildinfo', '.git/HEAD']) {
      expect(dockerignore.ignores(path), path).toBe(true);
    }
  });

  it('the build stage copies the whole context after the install and builds with the root build script', () => {
    const build = stages.get('build')!.map((i) => i.getTextContent());
    expect(build.indexOf('COPY . .')).toBeGreaterThan(build.findIndex((l) => l.includes('install --frozen-lockfile')));
    expect(build.at(-1)).toBe('RUN npx --yes pnpm@10.34.8 build');
  });

  it('every COPY --from=build names a file of the repository or an output of `pnpm build`', () => {
    expect(buildOutputs).toEqual(expect.arrayContaining(['common/dist', 'storage/dist', 'collector/dist', 'query-api/dist', 'alerting/dist', 'all-in-one/dist', 'ui/lib', 'ui/dist']));
    for (const { sources } of copies.filter((c) => c.from === 'build')) {
      for (const source of sources) {
        const path = normalize(source.replace(/^\/app\//, ''));
        const built = buildOutputs.includes(path);
        expect(built || (existsSync(join(ROOT, path)) && !dockerignore.ignores(path)), `COPY --from=build ${source}`).toBe(true);
      }
    }
  });

  it.each([...NAMES, 'all-in-one'])('%s: CMD runs the compiled main.js of a src/main.ts the build compiles and the image holds', (name) => {
    const cmd = stages.get(name)!.find((i) => i.getKeyword() === 'CMD')!;
    const [node, main] = JSON.parse(cmd.getArgumentsContent()!) as string[];
    expect(node).toBe('node');
    expect(main).toBe(`${name}/dist/main.js`);
    expect(existsSync(join(ROOT, name, 'src/main.ts'))).toBe(true);
    expect(buildOutputs).toContain(`${name}/dist`);
    expect(copies.some((c) => c.stage === 'base' && c.from === 'build' && c.dest === `${name}/dist`)).toBe(true);
  });

  it('builds on the Node major the workspace and CI use', () => {
    const engines = (JSON.parse(read(join(ROOT, 'package.json'))) as { engines: { node: string } }).engines.node;
    const major = /^>=(\d+)/.exec(engines)![1];
    const images = dockerfile.getFROMs().filter((f) => f.getImageName() === 'node').map((f) => f.getImageTag());
    expect(images.length).toBe(2);
    for (const tag of images) expect(tag).toMatch(new RegExp(`^${major}-`));
    expect(read(join(ROOT, '.github/workflows/ci.yml'))).toContain(`image: node:${major}-bookworm`);
  });
});

describe('ports and probe paths: what the code listens on and serves', () => {
  const compose = parse(read(join(DEPLOY, 'docker-compose.yml')), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; ports?: string[]; expose?: string[]; healthcheck?: { test: string[] } }>;
  };
  interface Container {
    ports: { containerPort: number; name: string }[];
    livenessProbe?: { httpGet?: { path: string; port: string } };
    readinessProbe?: { httpGet?: { path: string; port: string } };
    startupProbe?: { httpGet?: { path: string; port: string } };
  }
  const k8s = readdirSync(join(DEPLOY, 'k8s'))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(read(join(DEPLOY, 'k8s', f))).map((d) => d.toJS() as { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: { template?: { metadata: { annotations?: Record<string, string> }; spec: { containers: Container[] } } }; data?: Record<string, string> }));
  const configMap = k8s.find((o) => o.kind === 'ConfigMap')!.data!;
  const container = (name: string) => k8s.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec!.template!.spec.containers[0]!;

  it('the configuration schema computes ports from the environment (the check can tell them apart)', () => {
    expect(listens('collector', {})).toEqual([4318, 4317]);
    expect(listens('collector', { FLOWSCOPE_COLLECTOR_PORT: '5000' })).toEqual([5000, 4317]);
  });

  it.each(NAMES)('%s: the image EXPOSEs the ports its environment makes it listen on', (name) => {
    const expose = stages.get(name)!.filter((i) => i.getKeyword() === 'EXPOSE').flatMap(args).map(Number);
    expect(expose).toEqual(listens(name, imageEnv(name)));
  });

  it('all-in-one: the image EXPOSEs the collector\'s and the query API\'s ports', () => {
    const expose = stages.get('all-in-one')!.filter((i) => i.getKeyword() === 'EXPOSE').flatMap(args).map(Number);
    const env = imageEnv('all-in-one');
    expect(expose).toEqual([...listens('collector', env), listens('query-api', env)[0]]);
  });

  // compose interpolates `${NAME:-default}` from deploy/.env: with none (the defaults), and with
  // the values of .env.example (what deploy/README.md says to copy)
  const envExample = Object.fromEntries(
    read(join(DEPLOY, '.env.example'))
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const interpolate = (environment: Record<string, string>, dotEnv: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(environment).map(([k, v]) => {
        const out = String(v).replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => dotEnv[name] || (fallback ?? ''));
        expect(out, `${k}: an interpolation form this check does not know`).not.toContain('${');
        return [k, out];
      }),
    );

  it.each(NAMES)('%s: every compose environment value is valid for its configuration schema, with and without .env', (name) => {
    const environment = compose.services[name]!.environment ?? {};
    for (const dotEnv of [{}, envExample]) {
      const env = interpolate(environment, dotEnv);
      expect(() => parseConfig(PORTS[name].shape, env), JSON.stringify(dotEnv)).not.toThrow();
    }
    expect(interpolate({ A: '${X:-1}', B: '${X:-1}' }, { X: '2' })).toEqual({ A: '2', B: '2' });
  });

  it.each(NAMES)('%s: compose publishes or exposes, and health-checks, the ports its environment makes it listen on', (name) => {
    const service = compose.services[name]!;
    const ports = listens(name, interpolate(service.environment ?? {}, {}));
    const published = [...(service.ports ?? []).map((p) => Number(p.split(':').at(-1))), ...(service.expose ?? []).map(Number)];
    expect(published).toEqual(ports);
    expect(service.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${ports[0]}/health`);
  });

  it.each(NAMES)('%s: Kubernetes container ports, probes and scrape annotation match the ports the ConfigMap makes it listen on', (name) => {
    const c = container(name);
    const ports = listens(name, configMap);
    expect(c.ports.map((p) => p.containerPort)).toEqual(ports);
    const http = c.ports.find((p) => p.containerPort === ports[0])!.name;
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(probe?.httpGet?.port).toBe(http);
    const annotations = k8s.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec!.template!.metadata.annotations ?? {};
    expect(annotations['prometheus.io/port']).toBe(String(ports[0]));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });

  it('every probe path is served by the ops routes each process registers on that port', async () => {
    const app = Fastify();
    registerOpsRoutes(app, { registry: new Registry(), checks: [] });
    await app.ready();
    const probePaths = new Set<string>(['/metrics']);
    for (const name of NAMES) {
      const c = container(name);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) probePaths.add(probe!.httpGet!.path);
      const health = /http:\/\/127\.0\.0\.1:\d+(\/\w+)/.exec(compose.services[name]!.healthcheck!.test.join(' '))![1]!;
      probePaths.add(health);
    }
    const image = /fetch\(`http:\/\/127\.0\.0\.1:\$\{port\}(\/\w+)`\)/.exec(read(join(DEPLOY, 'healthcheck.mjs')))![1]!;
    probePaths.add(image);
    expect([...probePaths].sort()).toEqual(['/health', '/metrics', '/ready']);
    for (const path of probePaths) {
      expect(app.hasRoute({ method: 'GET', url: path }), path).toBe(true);
      expect((await app.inject({ method: 'GET', url: path })).statusCode, path).toBe(200);
    }
    expect(app.hasRoute({ method: 'GET', url: '/healthz' })).toBe(false);
    await app.close();
    // and each process registers them on the port the probes target
    const registers = (file: string) => /registerOpsRoutes\(app,/.test(read(join(ROOT, file)));
    expect(registers('collector/src/app.ts')).toBe(true); // the OTLP/HTTP app, FLOWSCOPE_COLLECTOR_PORT
    expect(registers('query-api/src/app.ts')).toBe(true); // FLOWSCOPE_QUERY_PORT
    expect(registers('alerting/src/main.ts')).toBe(true); // the worker's FLOWSCOPE_ALERTING_METRICS_PORT server
  });
});
