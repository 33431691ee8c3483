import { STATUS_CODES } from 'node:http';
import { type OptionChecks, optionChecks, PROBLEM_CONTENT_TYPE, type Route } from '@prod/core';
import * as z from 'zod';
import { ValidationErrors } from './errors.js';
import { acceptsUndefined, defOf, objectShape, unwrapped } from './internal/schema-shape.js';
import { ProblemSchema } from './problem.js';
import { isSchema, type RouteSpec, routeSpecMeta } from './route-meta.js';
import type { ResponseDeclaration, ResponseObject, Schema } from './types.js';
import type { ApiVersions } from './versioning.js';

/** A JSON value of the generated document. */
export type JsonObject = { [key: string]: unknown };

/** The document's `info` object. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly summary?: string;
  readonly description?: string;
  readonly termsOfService?: string;
  readonly contact?: { readonly name?: string; readonly url?: string; readonly email?: string };
  readonly license?: { readonly name: string; readonly identifier?: string; readonly url?: string };
}

/** A security scheme of the document (OpenAPI 3.1 Security Scheme Object). */
export type SecurityScheme =
  | {
      readonly type: 'http';
      readonly scheme: string;
      readonly bearerFormat?: string;
      readonly description?: string;
    }
  | {
      readonly type: 'apiKey';
      readonly name: string;
      readonly in: 'query' | 'header' | 'cookie';
      readonly description?: string;
    }
  | {
      readonly type: 'oauth2';
      readonly flows: Readonly<Record<string, unknown>>;
      readonly description?: string;
    }
  | {
      readonly type: 'openIdConnect';
      readonly openIdConnectUrl: string;
      readonly description?: string;
    }
  | { readonly type: 'mutualTLS'; readonly description?: string };

/** What {@link openApiDocument} is generated from. */
export interface OpenApiOptions {
  readonly info: OpenApiInfo;
  /** The routes to document; routes not made by `defineRoute` are left out. */
  readonly routes: readonly Route[];
  /** Default `[{ url: '/' }]` (OpenAPI's own default, spelled out). */
  readonly servers?: readonly { readonly url: string; readonly description?: string }[];
  readonly securitySchemes?: Readonly<Record<string, SecurityScheme>>;
  /** The security of every operation that declares none (`[{ bearer: [] }]`). Default: none (public). */
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  /** Tags with descriptions; tags that routes use and this list lacks are added. */
  readonly tags?: readonly { readonly name: string; readonly description?: string }[];
  readonly externalDocs?: { readonly url: string; readonly description?: string };
  /** The API's versions: the document is the one of `version`. */
  readonly versions?: ApiVersions;
  /** Which version to document. Default: the latest. */
  readonly version?: string;
}

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const REF = /^#\/\$defs\//;

/** Builds the `components.schemas` of one document: named schemas, reused by `$ref`. */
class Components {
  readonly schemas: Record<string, JsonObject> = {};
  readonly #placedAs = new Map<string, 'input' | 'output'>();
  #anonymous = 0;

  /** The JSON Schema of `schema` as `io` sees it, its named parts moved to components. */
  add(schema: Schema, io: 'input' | 'output'): JsonObject {
    let converted: JsonObject;
    try {
      converted = z.toJSONSchema(schema, {
        io,
        target: 'draft-2020-12',
        unrepresentable: 'any',
        cycles: 'ref',
        reused: 'inline',
      }) as JsonObject;
    } catch (cause) {
      return check.fail(
        'routes',
        'schemas that JSON Schema can describe',
        String((cause as Error)?.message ?? cause).slice(0, 120),
      );
    }
    const defs = (converted.$defs ?? {}) as Record<string, JsonObject>;
    delete converted.$defs;
    delete converted.$schema;
    if (JSON.stringify(converted).includes('"$ref":"#"')) {
      // A recursive schema refers to itself as the root: make it a component of its own.
      this.#anonymous += 1;
      const name = `Schema${this.#anonymous}`;
      defs[name] = rootRef(converted, `#/$defs/${name}`) as JsonObject;
      converted = { $ref: `#/$defs/${name}` };
    }
    const renamed = new Map<string, string>();
    for (const name of Object.keys(defs)) renamed.set(name, this.#place(name, defs, io, renamed));
    for (const [name, target] of renamed) {
      const body = rewrite(defs[name] as JsonObject, renamed) as JsonObject;
      const known = this.schemas[target];
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(body)) {
        check.fail('routes', `one schema named "${target}"`, 'two different schemas with that id');
      }
      this.schemas[target] = body;
      this.#placedAs.set(target, this.#placedAs.get(target) ?? io);
    }
    return rewrite(converted, renamed) as JsonObject;
  }

  #place(
    name: string,
    defs: Record<string, JsonObject>,
    io: 'input' | 'output',
    renamed: Map<string, string>,
  ): string {
    const anonymous = name.startsWith('__schema');
    if (anonymous || /^Schema\d+$/.test(name)) {
      if (!anonymous) return name;
      this.#anonymous += 1;
      return `Schema${this.#anonymous}`;
    }
    const body = JSON.stringify(rewrite(defs[name] as JsonObject, renamed));
    const known = this.schemas[name];
    if (known === undefined || JSON.stringify(known) === body) return name;
    if (this.#placedAs.get(name) === io) {
      return check.fail(
        'routes',
        `one schema named "${name}"`,
        'two different schemas with that id',
      );
    }
    // The same schema reads differently as input and as output (defaults, transforms).
    return io === 'input' ? `${name}Input` : `${name}Output`;
  }
}

function rootRef(node: unknown, target: string): unknown {
  if (Array.isArray(node)) return node.map((item) => rootRef(item, target));
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node))
    out[key] = key === '$ref' && value === '#' ? target : rootRef(value, target);
  return out;
}

function rewrite(node: unknown, renamed: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => rewrite(item, renamed));
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && REF.test(value)) {
      const name = value.replace(REF, '');
      out[key] = `#/components/schemas/${renamed.get(name) ?? name}`;
    } else {
      out[key] = rewrite(value, renamed);
    }
  }
  return out;
}

function openApiPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment))
    .join('/');
}

function describe(schema: Schema): string | undefined {
  const meta = z.globalRegistry.get(schema) ?? z.globalRegistry.get(unwrapped(schema));
  return typeof meta?.description === 'string' ? meta.description : undefined;
}

function parameters(
  spec: RouteSpec,
  where: 'path' | 'query' | 'header',
  schema: Schema | undefined,
  components: Components,
): JsonObject[] {
  const out: JsonObject[] = [];
  if (where === 'path' && schema === undefined) {
    for (const name of spec.pathParams)
      out.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    return out;
  }
  if (schema === undefined) return out;
  const shape = objectShape(schema);
  if (shape === undefined) return out;
  for (const [name, field] of Object.entries(shape)) {
    const parameter: JsonObject = {
      name,
      in: where,
      required: where === 'path' || !acceptsUndefined(field),
      schema: components.add(field, 'input'),
    };
    const description = describe(field);
    if (description !== undefined) parameter.description = description;
    if (where === 'query' && defOf(unwrapped(field)).type === 'array') {
      parameter.style = 'form';
      parameter.explode = true;
    }
    out.push(parameter);
  }
  return out;
}

function responseObject(declaration: ResponseDeclaration): ResponseObject {
  if (declaration === null) return { schema: null };
  if (isSchema(declaration)) return { schema: declaration };
  return declaration;
}

function examplesOf(
  examples: Readonly<Record<string, unknown>> | undefined,
): JsonObject | undefined {
  if (examples === undefined) return undefined;
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(examples)) out[name] = { value };
  return out;
}

function problemContent(components: Components): JsonObject {
  return { [PROBLEM_CONTENT_TYPE]: { schema: components.add(ProblemSchema, 'output') } };
}

function operation(
  spec: RouteSpec,
  options: OpenApiOptions,
  components: Components,
  versionHeader: JsonObject | undefined,
): JsonObject {
  const at = options.versions?.specAt(spec, options.version) ?? spec;
  const request = at.request;
  const op: JsonObject = { operationId: spec.operationId, summary: spec.summary };
  if (spec.description !== undefined) op.description = spec.description;
  if (spec.tags.length > 0) op.tags = [...spec.tags];
  if (spec.deprecated !== false) op.deprecated = true;
  const params = [
    ...parameters(spec, 'path', request.params, components),
    ...parameters(spec, 'query', request.query, components),
    ...parameters(spec, 'header', request.headers, components),
  ];
  if (versionHeader !== undefined) params.push(versionHeader);
  if (params.length > 0) op.parameters = params;
  if (request.body !== undefined) {
    const schema = components.add(request.body, 'input');
    const content: JsonObject = {};
    const examples = examplesOf(request.examples);
    for (const type of request.contentTypes ?? ['application/json']) {
      content[type] = examples === undefined ? { schema } : { schema, examples };
    }
    const body: JsonObject = { required: !acceptsUndefined(request.body), content };
    if (request.description !== undefined) body.description = request.description;
    op.requestBody = body;
  }
  const responses: JsonObject = {};
  for (const [status, declaration] of [...at.responses].sort(([a], [b]) => a - b)) {
    const response = responseObject(declaration);
    const out: JsonObject = {
      description: response.description ?? STATUS_CODES[status] ?? `Status ${status}`,
    };
    if (response.schema !== null) {
      const type = response.contentType ?? 'application/json';
      const media: JsonObject = { schema: components.add(response.schema, 'output') };
      const examples = examplesOf(response.examples);
      if (examples !== undefined) media.examples = examples;
      out.content = { [type]: media };
    }
    if (response.headers !== undefined) {
      const headers: JsonObject = {};
      for (const [name, header] of Object.entries(response.headers)) {
        const entry: JsonObject = { schema: components.add(header.schema, 'output') };
        if (header.description !== undefined) entry.description = header.description;
        if (header.required !== undefined) entry.required = header.required;
        headers[name] = entry;
      }
      out.headers = headers;
    }
    responses[String(status)] = out;
  }
  const hasInput = params.length > 0 || request.body !== undefined;
  const auto: [number, string, boolean][] = [
    [
      400,
      hasInput
        ? 'The input does not match the schemas (`errors` lists every failing field)'
        : 'Bad request',
      true,
    ],
    [413, 'The body is over the size limit', request.body !== undefined],
    [415, 'The body is not in an accepted media type', request.body !== undefined],
    [500, 'Internal Server Error', true],
  ];
  for (const [status, description, wanted] of auto) {
    if (wanted && responses[String(status)] === undefined) {
      responses[String(status)] = { description, content: problemContent(components) };
    }
  }
  op.responses = responses;
  const security = spec.security ?? options.security;
  if (security !== undefined) op.security = security.map((requirement) => ({ ...requirement }));
  else op.security = [];
  return op;
}

/**
 * Generates the OpenAPI 3.1 document of `routes` from their zod schemas (zod 4's JSON Schema
 * output, no hand-written spec): paths, path/query/header parameters, request bodies (schemas
 * as input), every response (as output) plus the problem+json errors every route can answer
 * (400, 413 and 415 for bodies, 500), security schemes and requirements, tags, examples, and
 * every schema with a `.meta({ id })` as a component reused by `$ref`. With `versions`, it is
 * the document of one version: the schemas that version's clients see, after the changes
 * since then are walked back.
 *
 * @returns the document (plain JSON); throws `VALIDATION_INVALID_OPTIONS` when two different
 * schemas share an id, a route names a security scheme the document does not define, or a
 * schema cannot be described.
 *
 * @example
 * import * as z from 'zod';
 * const health = defineRoute({
 *   method: 'GET',
 *   path: '/status',
 *   summary: 'Status',
 *   responses: { 200: z.object({ ok: z.boolean() }) },
 *   handler: () => ({ status: 200, body: { ok: true } }),
 * });
 * const document = openApiDocument({ info: { title: 'Notes', version: '1.0.0' }, routes: [health] });
 * console.log(Object.keys(document.paths as object)); // ['/status']
 */
export function openApiDocument(options: OpenApiOptions): JsonObject {
  check.object('options', options);
  const info = check.object<OpenApiInfo>('info', options.info);
  check.string('info.title', info.title, '', { nonEmpty: true });
  check.string('info.version', info.version, '', { nonEmpty: true });
  if (!Array.isArray(options.routes)) check.fail('routes', 'a list of routes', options.routes);
  const versions = options.versions;
  const version = options.version ?? versions?.latest;
  if (versions !== undefined && version !== undefined && !versions.ids.includes(version)) {
    check.fail('version', `one of ${versions.ids.join(', ')}`, version);
  }
  const schemes = options.securitySchemes ?? {};
  const components = new Components();
  const paths: Record<string, JsonObject> = {};
  const tags = new Map<string, JsonObject>();
  for (const tag of options.tags ?? []) tags.set(tag.name, { ...tag });
  const versionHeader =
    versions !== undefined && versions.from === 'header'
      ? {
          name: versions.header,
          in: 'header',
          required: false,
          description: `The API version (default: ${versions.defaultDescription}).`,
          schema: { type: 'string', enum: [...versions.ids] },
        }
      : undefined;
  const operationIds = new Set<string>();
  for (const route of options.routes) {
    const spec = routeSpecMeta.read(route);
    if (spec === undefined) continue;
    for (const requirement of spec.security ?? options.security ?? []) {
      for (const name of Object.keys(requirement)) {
        if (schemes[name] === undefined)
          check.fail('securitySchemes', `a scheme named "${name}"`, 'none');
      }
    }
    if (operationIds.has(spec.operationId))
      check.fail('routes', 'unique operationIds', spec.operationId);
    operationIds.add(spec.operationId);
    for (const tag of spec.tags) if (!tags.has(tag)) tags.set(tag, { name: tag });
    const prefix =
      versions !== undefined && versions.from === 'path' && version !== undefined
        ? `/${version}`
        : '';
    const key = prefix + openApiPath(spec.path);
    paths[key] ??= {};
    (paths[key] as JsonObject)[spec.method.toLowerCase()] = operation(
      spec,
      options,
      components,
      versionHeader,
    );
  }
  const document: JsonObject = {
    openapi: '3.1.0',
    info: {
      ...info,
      version: versions !== undefined && version !== undefined ? version : info.version,
    },
  };
  // OpenAPI's own default (a server at `/`), spelled out: linters require a server.
  document.servers = (options.servers ?? [{ url: '/' }]).map((server) => ({ ...server }));
  if (options.security !== undefined)
    document.security = options.security.map((requirement) => ({ ...requirement }));
  if (tags.size > 0) document.tags = [...tags.values()];
  if (options.externalDocs !== undefined) document.externalDocs = { ...options.externalDocs };
  document.paths = paths;
  const componentsObject: JsonObject = { schemas: components.schemas };
  if (Object.keys(schemes).length > 0) componentsObject.securitySchemes = structuredClone(schemes);
  document.components = componentsObject;
  return document;
}
