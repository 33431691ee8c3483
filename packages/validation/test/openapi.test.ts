import SwaggerParser from '@apidevtools/swagger-parser';
import {
  defineRoute,
  type JsonObject,
  openApiDocument,
  openApiPart,
  renderDocsPage,
} from '@prod/validation';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { routes, versions } from './fixtures/notes-api.js';

const options = {
  info: {
    title: 'Notes',
    version: '1.0.0',
    description: 'Notes API',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: 'https://api.notes.test' }],
  routes,
  securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } as const,
  tags: [
    { name: 'notes', description: 'Notes' },
    { name: 'admin', description: 'Administration' },
  ],
};

/** Both validators: Redocly's `recommended` ruleset (its lint engine, offline) and swagger-parser. */
async function validateDocument(document: JsonObject): Promise<string[]> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({
    source: JSON.stringify(document),
    absoluteRef: '/openapi.json',
    config,
  });
  const found = problems.map(
    (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? ''}`,
  );
  await SwaggerParser.validate(structuredClone(document) as never);
  return found;
}

describe('openApiDocument', () => {
  const document = openApiDocument(options);

  it('passes redocly lint (recommended, no errors or warnings) and swagger-parser validation', async () => {
    expect(await validateDocument(document)).toEqual([]);
  });

  it('is OpenAPI 3.1 with paths, parameters, bodies, every response, security and tags', () => {
    expect(document.openapi).toBe('3.1.0');
    const paths = document.paths as Record<string, Record<string, JsonObject>>;
    expect(Object.keys(paths)).toEqual(['/notes', '/notes/{id}', '/export']);
    const list = paths['/notes']?.get as JsonObject;
    expect(list.parameters).toEqual([
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'Page size',
        schema: {
          default: 20,
          type: 'integer',
          minimum: 1,
          maximum: 100,
          description: 'Page size',
        },
      },
      {
        name: 'offset',
        in: 'query',
        required: false,
        schema: { default: 0, type: 'integer', minimum: 0, maximum: 9007199254740991 },
      },
      {
        name: 'tag',
        in: 'query',
        required: false,
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
      { name: 'archived', in: 'query', required: false, schema: { type: 'string' } },
    ]);
    const create = paths['/notes']?.post as JsonObject;
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(create.requestBody).toMatchObject({
      required: true,
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/NewNote' },
          examples: { simple: { value: { title: 'Hello' } } },
        },
      },
    });
    expect(Object.keys(create.responses as object)).toEqual(['201', '400', '413', '415', '500']);
    expect((create.responses as Record<string, JsonObject>)['201']?.headers).toEqual({
      location: { schema: { type: 'string' }, description: 'Where the note lives' },
    });
    expect((create.responses as Record<string, JsonObject>)['400']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect((paths['/export']?.get as JsonObject | undefined)?.deprecated).toBe(true);
    expect(document.tags).toEqual(options.tags);
    const bare = openApiDocument({
      info: options.info,
      routes,
      securitySchemes: options.securitySchemes,
    });
    expect(bare.tags).toEqual([{ name: 'notes' }, { name: 'admin' }]);
    expect((document.components as JsonObject).securitySchemes).toEqual(options.securitySchemes);
  });

  it('reuses named schemas as components, by reference; input and output kept apart when they differ', () => {
    const schemas = (document.components as { schemas: Record<string, JsonObject> }).schemas;
    expect(Object.keys(schemas).sort()).toEqual(['FieldError', 'NewNote', 'Note', 'Problem']);
    const text = JSON.stringify(document);
    expect(text.match(/#\/components\/schemas\/Note"/g)?.length).toBeGreaterThanOrEqual(3);
    expect(schemas.Note?.examples).toHaveLength(1);
    expect(text).not.toContain('$defs');
  });

  it('one document per version: the old version shows the old schemas', async () => {
    const old = openApiDocument({ ...options, versions, version: '2024-01-01' });
    const latest = openApiDocument({ ...options, versions });
    expect((old.info as JsonObject).version).toBe('2024-01-01');
    expect((latest.info as JsonObject).version).toBe('2025-06-01');
    const oldSchemas = Object.keys((old.components as { schemas: object }).schemas);
    expect(oldSchemas).toContain('Note_2024');
    expect(oldSchemas).toContain('NewNote_2024');
    const get = (old.paths as Record<string, Record<string, JsonObject>>)['/notes/{id}']
      ?.get as JsonObject;
    expect(get.parameters).toContainEqual(
      expect.objectContaining({ name: 'api-version', in: 'header' }),
    );
    expect(await validateDocument(old)).toEqual([]);
    expect(await validateDocument(latest)).toEqual([]);
    expect(() => openApiDocument({ ...options, versions, version: '1999-01-01' })).toThrow(
      /version/,
    );
  });

  it('a document without servers gets OpenAPI\u2019s default one and still lints clean', async () => {
    const bare = openApiDocument({ ...options, servers: undefined as never });
    expect(bare.servers).toEqual([{ url: '/' }]);
    expect(await validateDocument(bare)).toEqual([]);
  });

  it('refuses two different schemas under one id, unknown security schemes and duplicate operationIds', () => {
    const a = defineRoute({
      method: 'GET',
      path: '/a',
      responses: { 200: z.object({ a: z.string() }).meta({ id: 'Same' }) },
      handler: () => ({ status: 200, body: { a: '' } }),
    });
    const b = defineRoute({
      method: 'GET',
      path: '/b',
      responses: { 200: z.object({ b: z.number() }).meta({ id: 'Same' }) },
      handler: () => ({ status: 200, body: { b: 1 } }),
    });
    expect(() => openApiDocument({ info: options.info, routes: [a, b] })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_INVALID_OPTIONS' }),
    );
    const secured = defineRoute({
      method: 'GET',
      path: '/s',
      security: [{ missing: [] }],
      responses: { 204: null },
      handler: () => ({ status: 204 }),
    });
    expect(() => openApiDocument({ info: options.info, routes: [secured] })).toThrow(/missing/);
    const twin = defineRoute({
      method: 'GET',
      path: '/t',
      operationId: 'getA',
      responses: { 204: null },
      handler: () => ({ status: 204 }),
    });
    expect(() => openApiDocument({ info: options.info, routes: [a, twin] })).toThrow(/operationId/);
  });

  it('describes recursive schemas with a component', async () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const TreeSchema: z.ZodType<Tree> = z.lazy(() =>
      z.object({ name: z.string(), children: z.array(TreeSchema) }),
    );
    const tree = defineRoute({
      method: 'GET',
      path: '/tree',
      summary: 'Tree',
      responses: { 200: TreeSchema },
      handler: () => ({ status: 200, body: { name: 'r', children: [] } }),
    });
    const doc = openApiDocument({ info: options.info, servers: options.servers, routes: [tree] });
    expect(JSON.stringify(doc)).toContain('#/components/schemas/Schema1');
    expect(await validateDocument(doc)).toEqual([]);
  });
});

describe('openApiPart', () => {
  it('asks @prod/security (when mounted) for its HTML profile on /docs, the page\u2019s style allowed by hash', () => {
    const part = openApiPart({ ...options });
    const docs = part.routes?.find((route) => route.path === '/docs');
    const page = renderDocsPage(openApiDocument(options), { specUrl: '/openapi.json' });
    expect(docs?.meta?.[Symbol.for('@prod/security/headers')]).toEqual({
      profile: 'html',
      csp: { 'style-src': [page.styleSource] },
    });
    expect(part.routes?.map((route) => `${route.method} ${route.path}`)).toEqual([
      'GET /openapi.json',
      'GET /docs',
    ]);
  });
});

describe('renderDocsPage', () => {
  it('renders every operation and schema, escapes everything, links $refs, loads nothing', () => {
    const document = openApiDocument({
      ...options,
      info: { ...options.info, description: '<script>alert(1)</script>' },
    });
    const page = renderDocsPage(document);
    expect(page.html).toContain('<span class="m post">post</span> <code>/notes</code>');
    expect(page.html).toContain('id="schema-Note"');
    expect(page.html).toContain('<a href="#schema-Note">');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.html).not.toMatch(/<script|src=|https?:\/\/(?!api\.notes\.test|docs\.example)/);
    expect(page.contentSecurityPolicy).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/,
    );
  });
});
