/**
 * deploy/ holds no code, and Docker does not run on the test machine, so its files are parsed
 * and held to the contract: ports and probes of docs/architecture.md, configuration names, the
 * compose mounts of grafana/ and prometheus/, and a Dockerfile that installs the workspace with
 * --frozen-lockfile, compiles it and runs the compiled JavaScript (all-in-one/test/build.int.test.ts
 * runs that build for real).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(path, 'utf8');

/** docs/architecture.md: processes, their ports and entry points. */
const PROCESSES = {
  collector: { port: 4318, extraPorts: [4317], main: 'collector/src/main.ts' },
  'query-api': { port: 8000, extraPorts: [], main: 'query-api/src/main.ts' },
  alerting: { port: 9464, extraPorts: [], main: 'alerting/src/main.ts' },
} as const;
type ProcessName = keyof typeof PROCESSES;
const NAMES = Object.keys(PROCESSES) as ProcessName[];

/** docs/architecture.md: configuration names kept from the replaced system; new ones use FLOWSCOPE_. */
const LEGACY_NAMES = new Set([
  'DATABASE_URL', 'REDIS_URL', 'DEBUGGING_ENABLED', 'DEBUGGING_TRACE_SAMPLING_RATE', 'DEBUGGING_MAX_TRACE_DURATION',
  'DEBUGGING_PERFORMANCE_MONITORING', 'DEBUGGING_ERROR_LOGGING', 'DEBUGGING_API_RESPONSE_TIME_WARNING',
  'DEBUGGING_API_RESPONSE_TIME_CRITICAL', 'DEBUGGING_DB_QUERY_TIME_WARNING', 'DEBUGGING_DB_QUERY_TIME_CRITICAL',
  'WEBSOCKET_ENABLED', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'LOG_LEVEL',
  'LOG_FILE_PATH',
]);
const isFlowscopeName = (name: string): boolean => LEGACY_NAMES.has(name) || /^FLOWSCOPE_[A-Z0-9_]+$/.test(name);
const EMAIL_NAMES = ['EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD'];

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
  command?: string[];
}
const compose = parse(read(join(DEPLOY, 'docker-compose.yml')), { merge: true }) as { services: Record<string, ComposeService> };

describe('deploy/Dockerfile', () => {
  const dockerfile = read(join(DEPLOY, 'Dockerfile'));
  const stages = new Map<string, string[]>();
  let current = '';
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = from[2] ?? from[1]!;
      stages.set(current, []);
    } else if (/^[A-Z]+\s/.test(line)) {
      stages.get(current)?.push(line);
    }
  }
  const stage = (name: string): string[] => {
    const lines = stages.get(name);
    if (!lines) throw new Error(`no stage ${name}`);
    return lines;
  };
  const workspace = parse(read(join(ROOT, 'pnpm-workspace.yaml'))) as { packages: string[] };

  it('builds on Node 20 and installs with the pinned pnpm and --frozen-lockfile, production dependencies only in the image', () => {
    expect(dockerfile).toMatch(/^FROM node:20[-\w.]* AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:20[-\w.]* AS base$/m);
    expect(stage('build')).toContain('RUN npx --yes pnpm@10.34.8 install --frozen-lockfile');
    expect(stage('build')).toContain('RUN npx --yes pnpm@10.34.8 build');
    expect(stage('base').find((l) => l.includes('install'))).toMatch(/pnpm@10\.34\.8 install --frozen-lockfile --prod --filter '@flowscope\/all-in-one\.\.\.'/);
  });

  it('the manifests stage holds the lockfile, the patches and every workspace manifest', () => {
    const lines = stage('manifests');
    expect(dockerfile).toMatch(/^FROM scratch AS manifests$/m);
    const copied = lines.map((l) => /^COPY (\S+)\/package\.json \1\/$/.exec(l)?.[1]).filter(Boolean);
    expect(copied.sort()).toEqual([...workspace.packages].sort());
    expect(lines).toContain('COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./');
    expect(lines).toContain('COPY patches/ patches/');
    expect(lines.filter((l) => l.startsWith('COPY')).length).toBe(workspace.packages.length + 2);
  });

  it.each(['build', 'base'])('%s: installs from the manifests stage before copying anything else', (name) => {
    const lines = stage(name);
    const install = lines.findIndex((l) => l.includes('install --frozen-lockfile'));
    expect(lines.findIndex((l) => l.startsWith('COPY'))).toBe(lines.indexOf('COPY --from=manifests /app/ ./'));
    expect(lines.indexOf('COPY --from=manifests /app/ ./')).toBeLessThan(install);
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { pnpm?: { patchedDependencies?: Record<string, string> } };
    for (const patch of Object.values(pkg.pnpm?.patchedDependencies ?? {})) expect(existsSync(join(ROOT, patch)), patch).toBe(true);
  });

  it('the production stage copies the compiled packages and the files they read at run time, never the sources', () => {
    const lines = stage('base');
    expect(lines).not.toContain('COPY . .');
    const fromBuild = lines.map((l) => /^COPY --from=build \/app\/(\S+) (\S+)$/.exec(l)).filter((m) => m !== null);
    for (const m of fromBuild) expect(m[2], m[0]).toBe(m[1]);
    const copied = fromBuild.map((m) => m[1]!);
    const server = ['common', 'storage', 'collector', 'query-api', 'alerting', 'all-in-one'];
    expect(copied).toEqual(expect.arrayContaining([...server.map((p) => `${p}/dist`), 'ui/dist', 'ui/lib']));
    // what the compiled code reads beside dist/: storage's migrations, alerting's default rules
    expect(read(join(ROOT, 'storage/src/migrate.ts'))).toContain("new URL('../migrations/', import.meta.url)");
    expect(read(join(ROOT, 'alerting/src/rules.ts'))).toContain("new URL('../rules/defaults.json', import.meta.url)");
    expect(copied).toEqual(expect.arrayContaining(['storage/migrations', 'alerting/rules']));
    for (const path of copied.filter((p) => !p.endsWith('dist') && !p.endsWith('lib'))) expect(existsSync(join(ROOT, path)), path).toBe(true);
    expect(copied.filter((p) => p.includes('src'))).toEqual([]);
  });

  it.each([...NAMES, 'all-in-one'] as const)('%s: runs its compiled main.js with node (no tsx), as the non-root node user, with a HEALTHCHECK', (name) => {
    const lines = stage(name);
    expect(dockerfile).toMatch(new RegExp(`^FROM base AS ${name}$`, 'm'));
    expect(lines).toContain(`CMD ["node", "${name}/dist/main.js"]`);
    expect(existsSync(join(ROOT, name, 'src/main.ts'))).toBe(true);
    expect(stage('base').at(-1)).toBe('USER node');
    expect(lines.some((l) => l.startsWith('USER'))).toBe(false);
    const health = lines.find((l) => l.startsWith('HEALTHCHECK'));
    expect(health).toBeDefined();
    const port = name === 'all-in-one' ? 8000 : PROCESSES[name].port;
    const variable = { collector: 'FLOWSCOPE_COLLECTOR_PORT', 'query-api': 'FLOWSCOPE_QUERY_PORT', alerting: 'FLOWSCOPE_ALERTING_METRICS_PORT', 'all-in-one': 'FLOWSCOPE_QUERY_PORT' }[name];
    expect(health).toMatch(new RegExp(`CMD \\["node", "deploy/healthcheck\\.mjs", "${variable}", "${port}"\\]$`));
    expect(health).toMatch(/--timeout=\d+s/);
    expect(stage('base')).toContain('COPY deploy/healthcheck.mjs deploy/healthcheck.mjs');
  });

  it('no production stage mentions tsx or TypeScript sources', () => {
    for (const [name, lines] of stages) if (name !== 'build') for (const l of lines) expect(l, `${name}: ${l}`).not.toMatch(/tsx|src\/|\.ts\b/);
  });

  it('keeps node_modules, builds and local data out of the build context', () => {
    const ignore = read(join(DEPLOY, 'Dockerfile.dockerignore')).split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', 'ui/lib', '**/.data', '.git']));
  });
});

describe('deploy/healthcheck.mjs (the images\' HEALTHCHECK)', () => {
  const check = (env: Record<string, string>, args: string[]) =>
    new Promise<number | null>((done) => {
      const child = spawn(process.execPath, [join(DEPLOY, 'healthcheck.mjs'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      child.on('exit', (code) => done(code));
    });
  const serve = (status: number) =>
    new Promise<Server>((ready) => {
      const server = createHttpServer((req, res) => {
        res.statusCode = req.url === '/health' ? status : 404;
        res.end();
      });
      server.listen(0, '127.0.0.1', () => ready(server));
    });
  const portOf = (s: Server) => String((s.address() as AddressInfo).port);

  it('exits 0 when /health answers 200 on the port named by the variable, 1 on another status or nothing listening, 2 on bad arguments', async () => {
    const healthy = await serve(200);
    const unhealthy = await serve(503);
    try {
      expect(await check({ FLOWSCOPE_QUERY_PORT: portOf(healthy) }, ['FLOWSCOPE_QUERY_PORT', '1'])).toBe(0);
      expect(await check({}, ['FLOWSCOPE_QUERY_PORT', portOf(healthy)])).toBe(0);
      expect(await check({ FLOWSCOPE_QUERY_PORT: portOf(unhealthy) }, ['FLOWSCOPE_QUERY_PORT', portOf(healthy)])).toBe(1);
      const closed = portOf(healthy);
      await new Promise((r) => healthy.close(r));
      expect(await check({}, ['FLOWSCOPE_QUERY_PORT', closed])).toBe(1);
      expect(await check({}, ['FLOWSCOPE_QUERY_PORT'])).toBe(2);
      expect(await check({ FLOWSCOPE_QUERY_PORT: 'abc' }, ['FLOWSCOPE_QUERY_PORT', '8000'])).toBe(2);
    } finally {
      healthy.close();
      unhealthy.close();
    }
  });
});

describe('deploy/docker-compose.yml', () => {
  const services = compose.services;

  it('runs the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual(['alerting', 'collector', 'grafana', 'mailpit', 'nginx', 'postgres', 'prometheus', 'query-api', 'redis']);
  });

  it.each(NAMES)('%s: built from deploy/Dockerfile, on PostgreSQL and Redis, healthy on GET /health of its port', (name) => {
    const service = services[name]!;
    const { port } = PROCESSES[name];
    expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile', target: name });
    expect(service.environment?.DATABASE_URL).toMatch(/^postgres:\/\/flowscope:.*@postgres:5432\/flowscope$/);
    expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(service.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      ...(name === 'alerting' ? { mailpit: { condition: 'service_started' } } : {}),
    });
    expect(service.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
    for (const key of Object.keys(service.environment ?? {})) expect(isFlowscopeName(key), key).toBe(true);
  });

  it('publishes the OTLP and API ports, and keeps the worker internal', () => {
    expect(services.collector?.ports).toEqual(['4318:4318', '4317:4317']);
    expect(services.collector?.environment).toMatchObject({ FLOWSCOPE_COLLECTOR_PORT: '4318', FLOWSCOPE_COLLECTOR_GRPC_PORT: '4317' });
    expect(services['query-api']?.ports).toEqual(['8000:8000']);
    expect(services['query-api']?.environment?.FLOWSCOPE_QUERY_PORT).toBe('8000');
    expect(services.alerting?.ports).toBeUndefined();
    expect(services.alerting?.expose).toEqual(['9464']);
    expect(services.alerting?.environment?.FLOWSCOPE_ALERTING_METRICS_PORT).toBe('9464');
  });

  it('gives the alerting worker the SMTP settings', () => {
    for (const name of EMAIL_NAMES) expect(services.alerting?.environment, name).toHaveProperty(name);
  });

  it('mounts grafana/ provisioning and dashboards where the provisioning YAML expects them', () => {
    const grafana = services.grafana!;
    const provider = (parse(read(join(ROOT, 'grafana/provisioning/dashboards/flowscope.yaml'))) as {
      providers: { options: { path: string } }[];
    }).providers[0]!;
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        '../grafana/provisioning:/etc/grafana/provisioning:ro',
        `../grafana/dashboards:${provider.options.path}:ro`,
      ]),
    );
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toContain('marcusolsson-json-datasource');
    expect(grafana.environment).toHaveProperty('FLOWSCOPE_GRAFANA_TOKEN');
    expect(read(join(ROOT, 'grafana/provisioning/datasources/flowscope.yaml'))).toContain('${FLOWSCOPE_GRAFANA_TOKEN}');
  });

  it('mounts prometheus/, whose scrape targets are compose services on their ports', () => {
    const prometheus = services.prometheus!;
    expect(prometheus.volumes).toContain('../prometheus:/etc/prometheus:ro');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = parse(read(join(ROOT, 'prometheus/prometheus.yml'))) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = config.scrape_configs.filter((s) => s.job_name.startsWith('flowscope-')).flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(targets.sort()).toEqual(NAMES.map((n) => `${n}:${PROCESSES[n].port}`).sort());
  });

  it('every relative host path it mounts or builds from exists', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const host = volume.split(':')[0]!;
        if (host.startsWith('.')) expect(existsSync(resolve(DEPLOY, host)), volume).toBe(true);
      }
      if (service.build) expect(existsSync(resolve(DEPLOY, service.build.context, service.build.dockerfile))).toBe(true);
    }
  });

  it('.env.example names only known variables', () => {
    const names = read(join(DEPLOY, '.env.example'))
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => l.split('=')[0]!);
    const composeOnly = new Set(['POSTGRES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']);
    for (const name of names) expect(isFlowscopeName(name) || composeOnly.has(name), name).toBe(true);
  });
});

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: { name: string; port: number; targetPort: string | number }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: {
          name: string;
          image: string;
          ports: { name: string; containerPort: number }[];
          envFrom?: { configMapRef?: { name: string } }[];
          env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
          livenessProbe?: { httpGet?: { path: string; port: string | number } };
          readinessProbe?: { httpGet?: { path: string; port: string | number } };
          startupProbe?: { httpGet?: { path: string; port: string | number } };
        }[];
      };
    };
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

describe('deploy/k8s', () => {
  const K8S = join(DEPLOY, 'k8s');
  const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
  const documents = files
    .filter((f) => f !== 'kustomization.yaml')
    .flatMap((file) => parseAllDocuments(read(join(K8S, file))).map((doc) => ({ file, doc })));
  const objects = documents.map(({ doc }) => doc.toJS() as K8sObject);
  const find = (kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);

  it('every manifest parses, and names its kind', () => {
    expect(documents.length).toBeGreaterThanOrEqual(9);
    for (const { file, doc } of documents) {
      expect(doc.errors, file).toEqual([]);
      expect(doc.toJS(), file).toHaveProperty('kind');
    }
  });

  it('kustomization lists every manifest but the example Secret', () => {
    const kustomization = parse(read(join(K8S, 'kustomization.yaml'))) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort());
  });

  it.each(NAMES)('%s: Deployment with liveness GET /health and readiness GET /ready on its port', (name) => {
    const deployment = find('Deployment', name);
    expect(deployment).toBeDefined();
    const container = deployment!.spec!.template!.spec.containers[0]!;
    const { port, extraPorts } = PROCESSES[name];
    expect(container.ports.map((p) => p.containerPort)).toEqual([port, ...extraPorts]);
    const http = container.ports.find((p) => p.containerPort === port)!.name;
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port: http });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: http });
    expect(container.startupProbe?.httpGet?.path).toBe('/health');
    expect(container.image).toMatch(new RegExp(`^flowscope/${name}:`));
    expect(deployment!.spec!.selector?.matchLabels).toEqual(deployment!.spec!.template!.metadata.labels);
  });

  it.each(NAMES)('%s: configuration from the ConfigMap, secrets from the Secret', (name) => {
    const container = find('Deployment', name)!.spec!.template!.spec.containers[0]!;
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'flowscope-config' } }]);
    const secrets = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    const own = { alerting: ['EMAIL_HOST_PASSWORD'], 'query-api': ['FLOWSCOPE_ADMIN_TOKEN'], collector: ['FLOWSCOPE_INGEST_TOKENS'] }[name];
    const expected = ['DATABASE_URL', 'REDIS_URL', ...own];
    expect(Object.keys(secrets)).toEqual(expected);
    // the tokens are optional keys: without them the processes start as documented
    for (const key of expected) expect(secrets[key]).toEqual({ name: 'flowscope-secrets', key, ...(key.endsWith('_TOKEN') || key.endsWith('_TOKENS') ? { optional: true } : {}) });
    const example = find('Secret', 'flowscope-secrets');
    for (const key of expected) expect(example?.stringData, key).toHaveProperty(key);
  });

  it.each(NAMES)('%s: Service selects the Deployment and targets its named ports', (name) => {
    const service = find('Service', name);
    const deployment = find('Deployment', name)!;
    expect(service).toBeDefined();
    const { selector } = service!.spec!;
    for (const [k, v] of Object.entries(selector ?? {})) expect(deployment.spec!.template!.metadata.labels[k]).toBe(v);
    const containerPorts = deployment.spec!.template!.spec.containers[0]!.ports;
    expect(service!.spec!.ports!.map((p) => [p.port, p.targetPort])).toEqual(containerPorts.map((p) => [p.containerPort, p.name]));
  });

  it('the ConfigMap holds only flowscope configuration names, and no secrets', () => {
    const config = find('ConfigMap', 'flowscope-config')!;
    for (const key of Object.keys(config.data ?? {})) expect(isFlowscopeName(key), key).toBe(true);
    for (const secret of ['DATABASE_URL', 'REDIS_URL', 'EMAIL_HOST_PASSWORD']) expect(config.data).not.toHaveProperty(secret);
    for (const [key, value] of Object.entries(config.data ?? {})) expect(typeof value, key).toBe('string');
  });

  it('every object lives in the flowscope namespace', () => {
    for (const o of objects) {
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe('flowscope');
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('flowscope');
    }
  });
});
