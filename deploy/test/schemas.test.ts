/**
 * deploy/ against published schemas, since no cluster, Docker engine or GitHub runs here:
 *
 * - every Kubernetes manifest against the Kubernetes OpenAPI definitions as `kubernetes-models`
 *   publishes them, twice: its `validate()` (the JSON schema of each kind, compiled with ajv:
 *   types, required fields, enums, formats), and its TypeScript interfaces of the same
 *   definitions through the TypeScript compiler, which refuses a field the kind does not have
 *   (what `kubectl apply --validate=strict` would refuse; the JSON schemas allow unknown fields);
 * - the compose file against the Compose Specification's JSON schema (as `dclint` ships it);
 * - the CI workflow against the GitHub workflow schema of SchemaStore (`@action-validator/core`).
 *
 * Each check is shown to fail on a broken copy of the real file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { Ajv, type ValidateFunction } from 'ajv';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'k8s');
const read = (path: string): string => readFileSync(path, 'utf8');
const require = createRequire(import.meta.url);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [key: string]: unknown;
}
type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- broken copies of manifests

const manifests = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(read(join(K8S, file))).map((doc) => ({ file, object: doc.toJS() as K8sObject })));

/** kubernetes-models' module of a kind: `apps/v1` → kubernetes-models/apps/v1/Deployment, `v1` → kubernetes-models/v1/Service. */
const modelPath = (o: K8sObject): string => `kubernetes-models/${o.apiVersion}/${o.kind}`;

interface Model {
  validate(): void;
}
async function validateWithModel(o: K8sObject): Promise<string | undefined> {
  const mod = (await import(modelPath(o))) as Record<string, new (data: unknown) => Model>;
  const ModelClass = mod[o.kind];
  if (!ModelClass) return `kubernetes-models has no ${o.kind} in ${o.apiVersion}`;
  try {
    new ModelClass(o).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Type-checks each object as a literal of kubernetes-models' interface for its kind, in a
 * program of one virtual file beside this test (so the package resolves as for the test).
 * Returns, per object, the compiler's complaints.
 */
function typeCheck(objects: K8sObject[]): string[][] {
  const file = join(import.meta.dirname, '__k8s_manifests__.ts');
  const text = [
    ...objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelPath(o)}';`),
    ...objects.map((o, i) => `export const m${i}: T${i} = ${JSON.stringify(o)};`),
  ].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? text : readFile.call(host, f));
  host.getSourceFile = (f, language, ...rest) => (f === file ? ts.createSourceFile(f, text, language) : getSourceFile.call(host, f, language, ...rest));
  const program = ts.createProgram([file], options, host);
  const out: string[][] = objects.map(() => []);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const line = d.file?.fileName === file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const index = line - objects.length; // the declarations follow one import line per object
    if (index >= 0 && index < objects.length) out[index]!.push(message);
    else throw new Error(`type check of the manifests failed outside a manifest: ${message}`);
  }
  return out;
}

describe('deploy/k8s against the Kubernetes OpenAPI definitions (kubernetes-models)', () => {
  const broken = (kind: string, change: (o: Mutable) => void): K8sObject => {
    const copy = structuredClone(manifests.find((m) => m.object.kind === kind)!.object) as Mutable;
    change(copy);
    return copy as K8sObject;
  };

  it('covers every kind deploy/k8s uses', () => {
    expect(new Set(manifests.map((m) => `${m.object.apiVersion} ${m.object.kind}`))).toEqual(
      new Set(['v1 Namespace', 'v1 ConfigMap', 'v1 Secret', 'v1 Service', 'apps/v1 Deployment', 'autoscaling/v2 HorizontalPodAutoscaler', 'policy/v1 PodDisruptionBudget']),
    );
  });

  it.each(manifests.map((m) => [`${m.file} ${m.object.kind}/${m.object.metadata.name}`, m.object] as const))('%s: valid against its kind\'s schema', async (_name, object) => {
    expect(await validateWithModel(object)).toBeUndefined();
  });

  it('every manifest has only fields its kind defines, of the types it defines', () => {
    const problems = typeCheck(manifests.map((m) => m.object));
    expect(Object.fromEntries(manifests.map((m, i) => [`${m.file} ${m.object.kind}/${m.object.metadata.name}`, problems[i]]))).toEqual(
      Object.fromEntries(manifests.map((m) => [`${m.file} ${m.object.kind}/${m.object.metadata.name}`, []])),
    );
  }, 60_000);

  it('the schema check fails on a wrong type, a missing required field, a bad enum value', async () => {
    expect(await validateWithModel(broken('Deployment', (o) => (o.spec.template.spec.containers[0].ports[0].containerPort = '4318')))).toMatch(/containerPort must be integer/);
    expect(await validateWithModel(broken('Deployment', (o) => delete o.spec.template.spec.containers[0].name))).toMatch(/containers\/0 must have required property name/);
    expect(await validateWithModel(broken('HorizontalPodAutoscaler', (o) => delete o.spec.scaleTargetRef))).toMatch(/scaleTargetRef/);
    expect(await validateWithModel(broken('Service', (o) => (o.spec.ports[0].protocol = 'HTTP')))).toMatch(/protocol must be equal to one of the allowed values/);
  });

  it('the field check fails on a field the kind does not have, wherever it is', () => {
    const problems = typeCheck([
      broken('Deployment', (o) => (o.spec.template.spec.containers[0].readinessProbes = o.spec.template.spec.containers[0].readinessProbe)),
      broken('Deployment', (o) => (o.spec.template.spec.containers[0].livenessProbe.httpGet.paht = '/health')),
      broken('Deployment', (o) => (o.spec.replica = 2)),
      broken('PodDisruptionBudget', (o) => (o.spec.maxReplicas = 3)),
      broken('Service', (o) => (o.metadata.label = { app: 'x' })),
    ]);
    expect(problems.map((p) => p.join(' '))).toEqual([
      expect.stringContaining("'\"readinessProbes\"' does not exist in type 'IContainer'"),
      expect.stringContaining("'\"paht\"' does not exist in type 'IHTTPGetAction'"),
      expect.stringContaining("'\"replica\"' does not exist in type 'IDeploymentSpec'"),
      expect.stringContaining("'\"maxReplicas\"' does not exist in type 'IPodDisruptionBudgetSpec'"),
      expect.stringContaining("'\"label\"' does not exist in type 'IObjectMeta'"),
    ]);
  }, 60_000);
});

describe('deploy/docker-compose.yml against the Compose Specification schema', () => {
  // dclint ships the compose-spec's compose.schema.json (draft-07); its own linting is not used.
  const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const schema = JSON.parse(read(schemaPath)) as Record<string, unknown>;
  // The file names draft-07 by its https URL; ajv knows the meta-schema by its canonical http one.
  expect(schema.$schema).toMatch(/draft-07\/schema#?$/);
  const validate: ValidateFunction = new Ajv({ allErrors: true, strict: false }).compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
  const compose = parse(read(join(DEPLOY, 'docker-compose.yml')), { merge: true }) as Mutable;
  const errorsOf = (document: unknown): string[] => (validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));

  it('is the Compose Specification schema, with its service definition', () => {
    expect(schema.title).toBe('Compose Specification');
    expect(Object.keys((schema.definitions as { service: { properties: object } }).service.properties)).toEqual(expect.arrayContaining(['healthcheck', 'depends_on', 'build', 'environment']));
  });

  it('the compose file is valid', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  it('fails on a misspelled key, a wrong type, an unknown depends_on condition', () => {
    const copy = (change: (c: Mutable) => void) => {
      const c = structuredClone(compose);
      change(c);
      return c;
    };
    expect(errorsOf(copy((c) => (c.services.collector.healthcheck.intervall = '5s'))).join('\n')).toMatch(/additional properties.*intervall/);
    expect(errorsOf(copy((c) => (c.services.collector.ports = 4318))).join('\n')).toMatch(/\/services\/collector\/ports must be array/);
    expect(errorsOf(copy((c) => (c.services.collector.depends_on.postgres.condition = 'service_ready'))).join('\n')).toMatch(/depends_on\/postgres\/condition must be equal to one of the allowed values/);
  });
});

describe('.github/workflows/ci.yml against the GitHub workflow schema (@action-validator/core)', () => {
  const workflow = read(join(ROOT, '.github/workflows/ci.yml'));

  it('is a valid workflow', () => {
    expect(validateWorkflow(workflow)).toEqual({ actionType: 'workflow', errors: [] });
  });

  it('fails on a misspelled job key and on an unknown trigger', () => {
    const job = JSON.stringify(validateWorkflow(workflow.replace('runs-on:', 'run-on:')));
    expect(job).toContain("Additional property 'run-on' is not allowed");
    const trigger = validateWorkflow(workflow.replace(/^on:\n/m, 'on:\n  pushed:\n'));
    expect(trigger.errors.length).toBeGreaterThan(0);
  });
});
