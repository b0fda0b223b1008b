/**
 * Every generated dashboard against Grafana's published dashboard schema: the TypeScript types
 * of @grafana/schema (the package Grafana publishes from its CUE kinds), turned into JSON Schema
 * with ts-json-schema-generator and checked with ajv. The dashboard, each panel and each panel's
 * options and field config are held to the types of their kind, unknown properties included.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { describe, expect, it } from 'vitest';
import { dashboards } from '../src/index.ts';

const require = createRequire(import.meta.url);
const SCHEMA_TYPES = join(dirname(require.resolve('@grafana/schema/package.json')), 'dist', 'types', 'raw');

function validator(file: string, type: string): ValidateFunction {
  const schema = createGenerator({ path: join(SCHEMA_TYPES, file), type, skipTypeCheck: true, additionalProperties: false, expose: 'export', topRef: true }).createSchema(type);
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

const dashboard = validator('dashboard/x/types.gen.d.ts', 'Dashboard');
const panel = validator('dashboard/x/types.gen.d.ts', 'Panel');
const rowPanel = validator('dashboard/x/types.gen.d.ts', 'RowPanel');
/** Panel plugins the dashboards use: their options and field config (`fieldConfig.defaults.custom`). */
const PLUGINS: Record<string, { options: ValidateFunction; custom?: ValidateFunction }> = {
  timeseries: { options: validator('composable/timeseries/panelcfg/x/types.gen.d.ts', 'Options'), custom: validator('composable/timeseries/panelcfg/x/types.gen.d.ts', 'FieldConfig') },
  stat: { options: validator('composable/stat/panelcfg/x/types.gen.d.ts', 'Options') },
  table: { options: validator('composable/table/panelcfg/x/types.gen.d.ts', 'Options'), custom: validator('composable/table/panelcfg/x/types.gen.d.ts', 'FieldConfig') },
};

const errorsOf = (v: ValidateFunction): string[] => (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);

interface PanelJson {
  type: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
}

describe("dashboards against Grafana's published schema (@grafana/schema)", () => {
  const all = Object.entries(dashboards() as Record<string, { panels: PanelJson[] }>);

  it.each(all)('%s is a valid Dashboard', (_file, d) => {
    const valid = dashboard(JSON.parse(JSON.stringify(d)));
    expect(errorsOf(dashboard), 'Dashboard').toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(all)('%s: each panel, its options and field config match its kind', (_file, d) => {
    for (const p of d.panels) {
      const json = JSON.parse(JSON.stringify(p)) as PanelJson;
      if (json.type === 'row') {
        expect(rowPanel(json), `${json.title}: ${errorsOf(rowPanel).join('; ')}`).toBe(true);
        continue;
      }
      expect(panel(json), `${json.title}: ${errorsOf(panel).join('; ')}`).toBe(true);
      const plugin = PLUGINS[json.type];
      if (!plugin) continue;
      expect(plugin.options(json.options ?? {}), `${json.title} options: ${errorsOf(plugin.options).join('; ')}`).toBe(true);
      if (plugin.custom) {
        const custom = json.fieldConfig?.defaults?.custom ?? {};
        expect(plugin.custom(custom), `${json.title} fieldConfig.defaults.custom: ${errorsOf(plugin.custom).join('; ')}`).toBe(true);
      }
    }
  });

  it('the schema check is not vacuous: it rejects an unknown property, a wrong type and a bad enum value', () => {
    const [, d] = all[0]!;
    const base = JSON.parse(JSON.stringify(d)) as Record<string, unknown> & { panels: Record<string, unknown>[] };
    expect(dashboard({ ...base, notAField: 1 })).toBe(false);
    expect(dashboard({ ...base, refresh: 30 })).toBe(false);
    const p = base.panels.find((x) => x.type === 'timeseries')!;
    expect(panel({ ...p, repeatDirection: 'diagonal' })).toBe(false);
    expect(PLUGINS.timeseries!.options({ ...(p.options as object), legend: { displayMode: 'sideways', placement: 'bottom', showLegend: true, calcs: [] } })).toBe(false);
  });

  it.each(['timeseries', 'stat', 'table'])('every %s panel type the dashboards use has its options schema', (type) => {
    expect(PLUGINS[type]).toBeDefined();
    const used = new Set(all.flatMap(([, d]) => d.panels.map((p) => p.type)));
    for (const t of used) if (t !== 'row' && t !== 'traces') expect(Object.keys(PLUGINS), t).toContain(t);
  });
});
