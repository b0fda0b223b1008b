import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import openapiTS, { astToString } from 'openapi-typescript';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { makeApp } from './helpers.ts';

/** The UI's copy of the API's shapes: generated from this app's OpenAPI document. */
export const UI_API_TYPES = join(import.meta.dirname, '..', '..', 'ui', 'src', 'lib', 'api.gen.ts');

const HEADER = `/**
 * The query API's request and response shapes, generated from its OpenAPI document (the JSON
 * schemas its routes validate and serialise with) by openapi-typescript. Do not edit: after a
 * change to a route's schema, regenerate with
 *   UPDATE_API_TYPES=1 npx pnpm@10.34.8 exec vitest run query-api/test/ui-api-types.int.test.ts
 * (the same test fails while this file is stale). Types only: nothing of it reaches the bundle.
 */
`;

/** The generated text for an OpenAPI document: every property the schemas declare is required unless marked nullable. */
/**
 * The generated text for an OpenAPI document. The routes' object schemas (query-api/src/http.ts
 * `obj`) list what their handlers always return and say `required: []` when they name no
 * required key; those are read as "all listed properties present" (`null` where the schema
 * allows it). A schema that names its required keys keeps them. An object schema with listed
 * properties gets no index signature (the UI reads only what is listed, and a misspelt key is
 * a type error); open maps (attributes, resource) keep theirs.
 */
export async function generateUiApiTypes(doc: unknown): Promise<string> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    const listed = typeof (v as { properties?: unknown }).properties === 'object';
    for (const [k, x] of Object.entries(v)) {
      if (k === 'required' && Array.isArray(x) && x.length === 0) continue;
      if (k === 'additionalProperties' && x === true && listed) continue;
      out[k] = walk(x);
    }
    return out;
  };
  const ast = await openapiTS(walk(doc) as Parameters<typeof openapiTS>[0], { propertiesRequiredByDefault: true, alphabetize: true, exportType: false });
  return `${HEADER}${astToString(ast)}`;
}

describe("the UI's API types", () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    app = await makeApp(db, { FLOWSCOPE_QUERY_DOCS_PUBLIC: 'true' });
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it('are what the OpenAPI document of the query API says (regenerate with UPDATE_API_TYPES=1)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const generated = await generateUiApiTypes(doc);
    if (process.env.UPDATE_API_TYPES === '1') await writeFile(UI_API_TYPES, generated);
    const committed = await readFile(UI_API_TYPES, 'utf8').catch(() => '');
    expect(committed, `${UI_API_TYPES} is stale: UPDATE_API_TYPES=1 npx pnpm@10.34.8 exec vitest run query-api/test/ui-api-types.int.test.ts`).toBe(generated);
  });
});
