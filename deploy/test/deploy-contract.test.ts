/**
 * deploy/ against the code: every environment variable the deployment files set for a flowscope
 * process is one the processes' configuration schemas read (the source of docs/configuration.md),
 * every metric the dashboards and rules may name is registered by a process, tokens only ever in
 * Secrets; the mail catcher, the reverse proxy, the autoscaler, the disruption budgets and the
 * CI workflow are wired as documented.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { alertingConfigShape } from '@flowscope/alerting';
import { collectorConfigShape } from '@flowscope/collector';
import { loggingConfigShape } from '@flowscope/common';
import { queryApiConfigShape } from '@flowscope/query-api';
import { storageConfigShape } from '@flowscope/storage';
import { METRICS } from '@flowscope/grafana';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(path, 'utf8');

/** What each process parses from its environment (as all-in-one/src/config-doc.ts documents). */
const SCHEMA = {
  collector: new Set(Object.keys({ ...loggingConfigShape, ...storageConfigShape, ...collectorConfigShape })),
  'query-api': new Set(Object.keys({ ...loggingConfigShape, ...storageConfigShape, ...queryApiConfigShape })),
  alerting: new Set(Object.keys({ ...loggingConfigShape, ...storageConfigShape, ...alertingConfigShape })),
};
type ProcessName = keyof typeof SCHEMA;
const PROCESSES = Object.keys(SCHEMA) as ProcessName[];
const ANY_PROCESS = new Set([...SCHEMA.collector, ...SCHEMA['query-api'], ...SCHEMA.alerting]);

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const composeText = read(join(DEPLOY, 'docker-compose.yml'));
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  resources?: { requests?: { cpu?: string } };
}
interface K8sObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string };
  spec?: Record<string, unknown> & {
    replicas?: number;
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
const K8S = join(DEPLOY, 'k8s');
const objects = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(read(join(K8S, f))).map((d) => d.toJS() as K8sObject));
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in deploy/k8s`);
  return o;
};

describe('environment variables in deploy/ exist in the configuration schema', () => {
  it('the schema is not empty and knows the names every process shares', () => {
    for (const p of PROCESSES) expect([...SCHEMA[p]]).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL']));
    expect(SCHEMA.collector.has('FLOWSCOPE_QUERY_PORT')).toBe(false);
  });

  it.each(PROCESSES)('compose: every variable set for %s is read by it, or is in the settings all three share', (name) => {
    const env = compose.services[name]?.environment ?? {};
    // x-flowscope-env: the same settings (thresholds, sampling, …) for all three services
    const shared = new Set(Object.keys(env).filter((k) => PROCESSES.every((p) => compose.services[p]?.environment?.[k] === env[k])));
    expect(shared.size).toBeGreaterThan(5);
    for (const key of Object.keys(env)) {
      if (shared.has(key)) expect(ANY_PROCESS.has(key), `shared: ${key}`).toBe(true);
      else expect(SCHEMA[name].has(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('compose: every ${VARIABLE} interpolated into a flowscope service is a configuration name or the database password', () => {
    const flowscopeEnv = PROCESSES.flatMap((p) => Object.values(compose.services[p]?.environment ?? {}));
    const used = new Set(flowscopeEnv.flatMap((v) => [...String(v).matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(ANY_PROCESS.has(name) || name === 'POSTGRES_PASSWORD', name).toBe(true);
  });

  it('.env.example: every name is read by a process, or by compose / Grafana where the file says', () => {
    const names = read(join(DEPLOY, '.env.example'))
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => l.split('=')[0]!);
    // Read by Grafana's provisioning (expanded there) or by compose itself, not by flowscope.
    const grafanaProvisioning = readdirSync(join(ROOT, 'grafana/provisioning'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => read(join(e.parentPath, e.name)))
      .join('\n');
    for (const name of names) {
      const where = ANY_PROCESS.has(name) ? 'process' : grafanaProvisioning.includes(`\${${name}}`) ? 'grafana' : composeText.includes(`\${${name}`) ? 'compose' : 'nowhere';
      expect(where, name).not.toBe('nowhere');
    }
  });

  it.each(PROCESSES)('Kubernetes: the ConfigMap and the container env of %s hold only names it reads', (name) => {
    const container = find('Deployment', name).spec!.template!.spec.containers[0]!;
    for (const e of container.env ?? []) expect(SCHEMA[name].has(e.name), `${name}: ${e.name}`).toBe(true);
    for (const key of Object.keys(find('ConfigMap', 'flowscope-config').data ?? {})) expect(ANY_PROCESS.has(key), key).toBe(true);
    for (const key of Object.keys(find('Secret', 'flowscope-secrets').stringData ?? {})) expect(ANY_PROCESS.has(key), key).toBe(true);
  });

  it('Dockerfile: every ENV name of a process stage is read by that process (the all-in-one reads them all)', () => {
    let stage = '';
    let checked = 0;
    for (const line of read(join(DEPLOY, 'Dockerfile')).split('\n')) {
      const from = /^FROM \S+ AS (\S+)$/.exec(line);
      if (from) stage = from[1]!;
      const env = /^ENV ([A-Z0-9_]+)=/.exec(line);
      if (!env || stage === 'build' || stage === 'base') continue;
      const names = stage === 'all-in-one' ? ANY_PROCESS : SCHEMA[stage as ProcessName];
      expect(names?.has(env[1]!), `${stage}: ${env[1]}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(4);
  });

  it('tokens and passwords are only in Secrets, never in the ConfigMap', () => {
    const secretish = /TOKEN|PASSWORD|SECRET|DATABASE_URL|REDIS_URL/;
    const config = find('ConfigMap', 'flowscope-config').data ?? {};
    for (const key of Object.keys(config)) expect(secretish.test(key), key).toBe(false);
    const secrets = find('Secret', 'flowscope-secrets').stringData ?? {};
    expect(Object.keys(secrets)).toEqual(expect.arrayContaining(['FLOWSCOPE_ADMIN_TOKEN', 'FLOWSCOPE_INGEST_TOKENS', 'EMAIL_HOST_PASSWORD']));
    for (const p of PROCESSES) {
      for (const e of find('Deployment', p).spec!.template!.spec.containers[0]!.env ?? []) {
        if (secretish.test(e.name)) {
          expect(e.value, `${p}: ${e.name}`).toBeUndefined();
          expect(e.valueFrom?.secretKeyRef?.name, `${p}: ${e.name}`).toBe('flowscope-secrets');
        }
      }
    }
  });
});

describe('metric names the dashboards and rules may use are registered by a process', () => {
  // The servers' code without comments: a metric name must be a string literal there (a
  // prom-client constructor's `name`, or the name argument of a helper that makes one).
  const code = ['common', 'storage', 'collector', 'query-api', 'alerting']
    .flatMap((p) => readdirSync(join(ROOT, p, 'src'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => read(join(e.parentPath, e.name))))
    .join('\n')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const registered = (name: string) => new RegExp(`(?:name: |\\(\\w+, )['"\`]${name}['"\`]`).test(code);

  it.each(Object.entries(METRICS))('%s (%s) is created as a prom-client metric in the code', (_key, name) => {
    expect(registered(name)).toBe(true);
  });

  it('the check is not vacuous: an invented name, or one only in a comment, is not found', () => {
    expect(registered('flowscope_invented_total')).toBe(false);
    expect(read(join(ROOT, 'query-api/src/app.ts'))).toContain('* `flowscope_errors_unresolved{');
    expect(code).not.toContain('* `flowscope_errors_unresolved{');
  });
});

describe('images', () => {
  it('compose pins every third-party image to a version and builds each flowscope one from its Dockerfile target', () => {
    const dockerfile = read(join(DEPLOY, 'Dockerfile'));
    for (const [name, service] of Object.entries(compose.services)) {
      const image = service.image ?? '';
      expect(image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(image, name).not.toMatch(/:latest$/);
      if (image.startsWith('flowscope/')) {
        expect(image).toBe(`flowscope/${name}:local`);
        expect(dockerfile).toMatch(new RegExp(`^FROM base AS ${name}$`, 'm'));
      } else {
        expect(image, name).toMatch(/:v?\d+(\.\d+)*(-[\w]+)?$/);
      }
    }
  });

  it('Kubernetes runs the flowscope images of the Dockerfile targets, each retagged by the kustomization', () => {
    const kustomization = parse(read(join(K8S, 'kustomization.yaml'))) as { images: { name: string; newTag: string }[] };
    const pkg = JSON.parse(read(join(ROOT, 'all-in-one/package.json'))) as { version: string };
    for (const p of PROCESSES) {
      const image = find('Deployment', p).spec!.template!.spec.containers[0]! as Container & { image: string };
      expect(image.image).toBe(`flowscope/${p}:${pkg.version}`);
      expect(kustomization.images).toContainEqual({ name: `flowscope/${p}`, newTag: pkg.version });
    }
  });
});

describe('compose: mail catcher and reverse proxy', () => {
  const services = compose.services;

  it('alert emails go to Mailpit over plain SMTP by default, its UI published on 8025', () => {
    expect(services.mailpit?.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
    expect(services.mailpit?.expose).toEqual(['1025']);
    expect(services.mailpit?.ports).toEqual(['8025:8025']);
    const env = services.alerting!.environment!;
    expect(env.EMAIL_HOST).toBe('${EMAIL_HOST:-mailpit}');
    expect(env.EMAIL_PORT).toBe('${EMAIL_PORT:-1025}');
    expect(env.EMAIL_USE_TLS).toBe('${EMAIL_USE_TLS:-false}');
    expect(services.alerting?.depends_on).toHaveProperty('mailpit');
  });

  it('nginx mounts deploy/nginx/flowscope.conf and the certificate folder, publishes HTTPS, and starts after its upstreams', () => {
    const nginx = services.nginx!;
    expect(nginx.image).toMatch(/^nginx:1\.\d+/);
    expect(nginx.volumes).toEqual(['./nginx/flowscope.conf:/etc/nginx/conf.d/default.conf:ro', './nginx/certs:/etc/nginx/certs:ro']);
    for (const v of nginx.volumes!) expect(existsSync(join(DEPLOY, v.split(':')[0]!))).toBe(true);
    expect(nginx.ports).toContain('8443:443');
    expect(nginx.depends_on).toEqual(['query-api', 'collector']);
    const conf = read(join(DEPLOY, 'nginx/flowscope.conf'));
    expect(conf).toContain('/etc/nginx/certs/tls.crt');
    expect(conf).toContain('server query-api:8000;');
    expect(conf).toContain('server collector:4318;');
    expect(conf).toContain('server collector:4317;');
    expect(read(join(DEPLOY, 'nginx/certs/.gitignore'))).toContain('*');
  });
});

describe('Kubernetes: autoscaling and disruption budgets', () => {
  it('a HorizontalPodAutoscaler (autoscaling/v2) scales the collector Deployment on CPU, which sets no replicas itself', () => {
    const hpa = find('HorizontalPodAutoscaler', 'collector');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'collector' }, minReplicas: 2 });
    expect(hpa.spec!.maxReplicas as number).toBeGreaterThan(hpa.spec!.minReplicas as number);
    expect(hpa.spec!.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    const collector = find('Deployment', 'collector');
    expect(collector.spec!.replicas).toBeUndefined();
    // utilization is measured against the request: the container must set one
    expect(collector.spec!.template!.spec.containers[0]!.resources?.requests?.cpu).toBeDefined();
  });

  it.each(['collector', 'query-api', 'alerting'])('a PodDisruptionBudget (policy/v1) selects the %s pods', (name) => {
    const pdb = find('PodDisruptionBudget', name);
    expect(pdb.apiVersion).toBe('policy/v1');
    const labels = find('Deployment', name).spec!.template!.metadata.labels;
    const selector = (pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(selector)) expect(labels[k], k).toBe(v);
    if (name === 'alerting') expect(pdb.spec!.maxUnavailable).toBe(1);
    else expect(pdb.spec!.minAvailable).toBe(1);
  });

  it('kustomization applies the autoscaler and the budgets', () => {
    const k = parse(read(join(K8S, 'kustomization.yaml'))) as { resources: string[] };
    expect(k.resources).toEqual(expect.arrayContaining(['hpa.yaml', 'pdb.yaml']));
  });
});

describe('.github/workflows/ci.yml', () => {
  const ci = parse(read(join(ROOT, '.github/workflows/ci.yml'))) as {
    on: Record<string, unknown>;
    jobs: Record<string, { container?: { image: string }; steps: { uses?: string; run?: string }[] }>;
  };

  it('runs .ci/run (services, then the README test command) on pushes to main and on pull requests, in Node 20 on Debian', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    const job = ci.jobs.test!;
    expect(job.container?.image).toBe('node:20-bookworm');
    expect(job.steps[0]?.uses).toMatch(/^actions\/checkout@v\d+$/);
    expect(job.steps.map((s) => s.run)).toContain('.ci/run');
    expect(job.steps.map((s) => s.run)).toContain('npx -y pnpm@10.34.8 build');
    const run = read(join(ROOT, '.ci/run'));
    expect(run).toContain('npx -y pnpm@10.34.8 install --frozen-lockfile && npx -y pnpm@10.34.8 test');
    for (const tool of ['postgresql', 'redis-server', 'chromium', 'prometheus', 'nginx-light']) expect(run, tool).toContain(tool);
  });

  it('the README test command is the one .ci/run ends with', () => {
    expect(read(join(ROOT, 'README.md'))).toContain('npx -y pnpm@10.34.8 install --frozen-lockfile && npx -y pnpm@10.34.8 test');
  });
});
