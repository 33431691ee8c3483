import {
  type BodyProfile,
  bodyProfileOf,
  CoreErrors,
  currentContext,
  type HttpRequest,
  type HttpResponse,
  isProdError,
  isResult,
  isThenable,
  type MaybePromise,
  type ProdError,
} from '@prod/core';
import * as z from 'zod';
import { ValidationErrors } from '../errors.js';
import type { RouteSpec } from '../route-meta.js';
import type { ResponseValidation, SanitizeOptions, Schema } from '../types.js';
import {
  ErrorList,
  type InputCheck,
  type Parsed,
  parseAsync,
  parseSync,
  prepare,
  RefusedInput,
  unsafeError,
} from './check-input.js';
import { type CoercionPlan, coerce } from './coerce.js';
import { DEFAULT_CAPS, type ErrorCaps } from './field-errors.js';
import { objectShape as objectShapeOf } from './schema-shape.js';

/** The raw parts of a request, before validation (what version changes transform). */
export interface RawInput {
  readonly params: Readonly<Record<string, unknown>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: unknown;
}

/** The API version one request is served at, and how to move between it and the latest. */
export interface VersionContext {
  readonly id: string;
  /** From this version's request to the latest one's; undefined when nothing changed. */
  readonly upgrade:
    | ((raw: RawInput, spec: RouteSpec, request: HttpRequest) => RawInput)
    | undefined;
  /** From the latest version's response body to this one's; undefined when nothing changed. */
  readonly downgrade:
    | ((body: unknown, status: number, spec: RouteSpec, request: HttpRequest) => unknown)
    | undefined;
}

/** The checks of a route's request as an older version declared it (`before.request`). */
export interface OlderChecks {
  readonly params: PartCheck | undefined;
  readonly query: PartCheck | undefined;
  readonly headers: PartCheck | undefined;
  readonly body: PartCheck | undefined;
}

/** What a mounting part (apiPart) sets for the routes it serves. */
export interface HandleOptions {
  /** The checks of the request's version, when its schemas differ from the latest ones. */
  readonly older?: (route: CompiledRoute, version: string) => OlderChecks | undefined;
  readonly mode?: ResponseValidation;
  readonly report?: (error: ProdError<'VALIDATION_RESPONSE_INVALID'>, request: HttpRequest) => void;
  readonly version?: (request: HttpRequest) => VersionContext | undefined;
}

export interface PartCheck extends InputCheck {
  readonly coercion: CoercionPlan;
}

export interface CompiledResponse {
  readonly schema: Schema | null;
  readonly contentType: string;
}

/** Everything the runtime needs of one route, compiled when it is defined. */
export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly params: PartCheck | undefined;
  readonly query: PartCheck | undefined;
  readonly headers: PartCheck | undefined;
  readonly headerKeys: readonly string[] | undefined;
  readonly body: PartCheck | undefined;
  readonly bodyLimit: number | undefined;
  readonly contentTypes: readonly string[] | undefined;
  readonly responses: ReadonlyMap<number, CompiledResponse>;
  readonly mode: ResponseValidation;
  readonly report: (error: ProdError<'VALIDATION_RESPONSE_INVALID'>, request: HttpRequest) => void;
  /** How many field errors a 400 lists, and how long their messages may be. */
  readonly caps: ErrorCaps;
  readonly handler: (input: HandlerInput) => unknown;
  /** The route's sanitization, for the checks of older versions' schemas. */
  readonly sanitize: SanitizeOptions | false | undefined;
}

export interface HandlerInput {
  readonly params: unknown;
  readonly query: unknown;
  readonly headers: unknown;
  readonly body: unknown;
  readonly version: string | undefined;
  readonly request: HttpRequest;
  readonly reply: (status: number, body?: unknown, headers?: ReplyShape['headers']) => ReplyShape;
}

const reply = (status: number, body?: unknown, headers?: ReplyShape['headers']): ReplyShape =>
  headers === undefined ? { status, body } : { status, body, headers };

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_OPTIONS: HandleOptions = Object.freeze({});

/** The default report of an invalid response: the request's logger, else `console.error`. */
export function reportToLog(error: ProdError<'VALIDATION_RESPONSE_INVALID'>): void {
  const logger = currentContext()?.logger;
  if (logger !== undefined) logger.error({ err: error.toJSON(), code: error.code }, error.message);
  else console.error(`${error.code}: ${error.message}`, error.errors ?? []);
}

function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

function checkBody(route: CompiledRoute, request: HttpRequest): void {
  const length = request.headers['content-length'];
  const present = request.body !== undefined || (length !== undefined && length !== '0');
  if (!present) return;
  if (route.contentTypes !== undefined) {
    const type = mediaType(request.headers['content-type']);
    if (!route.contentTypes.includes(type)) {
      throw CoreErrors.UNSUPPORTED_MEDIA_TYPE({
        message: `Send the body as ${route.contentTypes.join(' or ')}`,
        details: { accepted: route.contentTypes },
        captureStack: false,
      });
    }
  }
  const limit = route.bodyLimit;
  if (limit === undefined) return;
  const declared = length === undefined ? Number.NaN : Number(length);
  const size = Number.isFinite(declared)
    ? declared
    : request.body === undefined
      ? 0
      : Buffer.byteLength(JSON.stringify(request.body) ?? '');
  if (size > limit) {
    throw CoreErrors.PAYLOAD_TOO_LARGE({
      message: `The body is larger than ${limit} bytes`,
      details: { limit },
      captureStack: false,
    });
  }
}

/** Refuses early (before the body is read) what the route would refuse later. */
export function checkEarly(route: CompiledRoute, request: HttpRequest): void {
  checkBody(route, request);
}

function pick(
  headers: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (headers[key] !== undefined) out[key] = headers[key];
  return out;
}

function preparePart(check: PartCheck, raw: unknown, profile?: BodyProfile): unknown {
  const prepared = prepare(check, raw, profile);
  if (prepared instanceof RefusedInput) throw unsafeError(prepared.refusal);
  if (check.coercion === undefined || typeof prepared !== 'object' || prepared === null) {
    return prepared;
  }
  return coerce(prepared as Record<string, unknown>, check.coercion);
}

/** One part's parse result: zod's own result object, or `undefined` for an async schema. */
type PartResult =
  | { readonly success: true; readonly data: unknown }
  | { readonly success: false; readonly error: { readonly issues: readonly z.core.$ZodIssue[] } };

function parsePart(check: PartCheck, value: unknown): PartResult | undefined {
  try {
    return z.safeParse(check.schema, value) as PartResult;
  } catch (error) {
    if (error instanceof z.core.$ZodAsyncError) return undefined;
    throw error;
  }
}

/**
 * Serves one request of a compiled route: per-route body checks, version upgrade, sanitize,
 * coerce and parse every part (all failures collected), the handler, then the response
 * checked against its status's schema and walked back to the request's version.
 */
export function handle(
  route: CompiledRoute,
  request: HttpRequest,
  options: HandleOptions = NO_OPTIONS,
): MaybePromise<unknown> {
  checkBody(route, request);
  const version = options.version === undefined ? undefined : options.version(request);
  let raw: RawInput = request;
  if (version !== undefined && options.older !== undefined) {
    const older = options.older(route, version.id);
    if (older !== undefined) checkOlder(route, older, request);
  }
  if (version?.upgrade !== undefined) {
    raw = version.upgrade(
      {
        params: request.params,
        query: request.query,
        headers: request.headers,
        body: request.body,
      },
      route.spec,
      request,
    );
  }
  // Prepared inputs first (a refusal throws at once), then every part parsed, every failure kept.
  const params = route.params === undefined ? raw.params : preparePart(route.params, raw.params);
  const query = route.query === undefined ? raw.query : preparePart(route.query, raw.query);
  const headers =
    route.headers === undefined
      ? raw.headers
      : preparePart(route.headers, pick(raw.headers, route.headerKeys ?? []));
  // The adapter's profile of the body describes it as parsed: not once a version change ran.
  const body =
    route.body === undefined
      ? undefined
      : preparePart(route.body, raw.body, raw === request ? bodyProfileOf(request) : undefined);
  let errors: ErrorList | undefined;
  let async = false;
  const parsed = (check: PartCheck | undefined, value: unknown): unknown => {
    if (check === undefined) return value;
    const result = parsePart(check, value);
    if (result === undefined) {
      async = true;
      return undefined;
    }
    if (result.success) return result.data;
    errors ??= new ErrorList(route.caps);
    errors.add(result.error.issues, check.prefix);
    return undefined;
  };
  const input: HandlerInput = {
    params: parsed(route.params, params),
    query: parsed(route.query, query),
    headers: parsed(route.headers, headers),
    body: parsed(route.body, body),
    version: version?.id,
    request,
    reply,
  };
  if (async) return handleAsync(route, request, options, version, [params, query, headers, body]);
  if (errors !== undefined) throw invalidRequest(errors);
  return call(route, request, input, options, version);
}

/**
 * Validates a request against the schemas of the version it was written for, before it is
 * moved forward: its errors then name that version's fields. Parsed values are not kept (the
 * changes move the raw request); a schema with async refinements is left to the latest check.
 */
function checkOlder(route: CompiledRoute, older: OlderChecks, request: HttpRequest): void {
  let errors: ErrorList | undefined;
  const run = (check: PartCheck | undefined, raw: unknown, profile?: BodyProfile): void => {
    if (check === undefined) return;
    const result = parsePart(check, preparePart(check, raw, profile));
    if (result === undefined || result.success) return;
    errors ??= new ErrorList(route.caps);
    errors.add(result.error.issues, check.prefix);
  };
  run(older.params, request.params);
  run(older.query, request.query);
  if (older.headers !== undefined) {
    const keys = Object.keys(objectShapeOf(older.headers.schema) ?? {});
    run(older.headers, pick(request.headers, keys));
  }
  run(older.body, request.body, bodyProfileOf(request));
  if (errors !== undefined) throw invalidRequest(errors);
}

function invalidRequest(errors: ErrorList): ProdError<'VALIDATION_INVALID_INPUT'> {
  return errors.toError('The request does not match the route\u2019s schemas');
}

async function handleAsync(
  route: CompiledRoute,
  request: HttpRequest,
  options: HandleOptions,
  version: VersionContext | undefined,
  prepared: readonly unknown[],
): Promise<unknown> {
  const checks = [route.params, route.query, route.headers, route.body];
  let errors: ErrorList | undefined;
  const values = await Promise.all(
    checks.map(async (check, i) => {
      if (check === undefined) return prepared[i];
      const result = await parseAsync(check.schema, prepared[i]);
      if (result.ok === true) return result.value;
      if (result.ok === false) {
        errors ??= new ErrorList(route.caps);
        errors.add(result.issues, check.prefix);
      }
      return undefined;
    }),
  );
  if (errors !== undefined) throw invalidRequest(errors);
  const input: HandlerInput = {
    params: values[0],
    query: values[1],
    headers: values[2],
    body: values[3],
    version: version?.id,
    request,
    reply,
  };
  return call(route, request, input, options, version);
}

function call(
  route: CompiledRoute,
  request: HttpRequest,
  input: HandlerInput,
  options: HandleOptions,
  version: VersionContext | undefined,
): MaybePromise<unknown> {
  const answer = route.handler(input);
  if (isThenable(answer)) {
    return (answer as Promise<unknown>).then((later) =>
      respond(route, request, later, options, version),
    );
  }
  return respond(route, request, answer, options, version);
}

interface ReplyShape {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

function respond(
  route: CompiledRoute,
  request: HttpRequest,
  answer: unknown,
  options: HandleOptions,
  version: VersionContext | undefined,
): MaybePromise<unknown> {
  // A ProdError or a failed Result is answered by the adapter as the error it is.
  if (isProdError(answer) || (isResult(answer) && !answer.ok)) return answer;
  const reply = (isResult(answer) ? (answer as { value: unknown }).value : answer) as ReplyShape;
  if (typeof reply !== 'object' || reply === null || typeof reply.status !== 'number') {
    throw new TypeError(
      `The handler of ${route.spec.method} ${route.spec.path} answered no { status }`,
    );
  }
  const mode = options.mode ?? route.mode;
  const declared = route.responses.get(reply.status);
  if (mode === 'off') {
    return finish(route, request, reply, reply.body, declared, version);
  }
  if (declared === undefined) {
    return fail(
      route,
      request,
      options,
      reply.status,
      `answered ${reply.status}, a status it does not declare`,
    );
  }
  if (declared.schema === null) {
    if (reply.body !== undefined) {
      return fail(
        route,
        request,
        options,
        reply.status,
        `answered a body for ${reply.status}, declared without one`,
      );
    }
    return finish(route, request, reply, undefined, declared, version);
  }
  const parsed = parseSync(declared.schema, reply.body);
  if (parsed.ok === 'async') {
    return parseAsync(declared.schema, reply.body).then((later) =>
      checked(route, request, options, reply, declared, later, mode, version),
    );
  }
  return checked(route, request, options, reply, declared, parsed, mode, version);
}

function checked(
  route: CompiledRoute,
  request: HttpRequest,
  options: HandleOptions,
  reply: ReplyShape,
  declared: CompiledResponse,
  parsed: Parsed,
  mode: ResponseValidation,
  version: VersionContext | undefined,
): HttpResponse {
  if (parsed.ok === false) {
    const list = new ErrorList(DEFAULT_CAPS);
    list.add(parsed.issues, '/body');
    return fail(
      route,
      request,
      options,
      reply.status,
      'answered a body that does not match its schema',
      list,
    );
  }
  const value = (parsed as { value: unknown }).value;
  if (mode === 'strict') {
    const extra: string[] = [];
    unknownFields(reply.body, value, '/body', extra, 0);
    if (extra.length > 0) {
      const list = new ErrorList(DEFAULT_CAPS);
      list.errors.push(
        ...extra.map((path) => ({
          path,
          code: 'unrecognized_key',
          message: 'is not in the schema',
        })),
      );
      list.total = extra.length;
      return fail(
        route,
        request,
        options,
        reply.status,
        'answered fields its schema does not declare',
        list,
      );
    }
  }
  return finish(route, request, reply, value, declared, version);
}

function finish(
  route: CompiledRoute,
  request: HttpRequest,
  reply: ReplyShape,
  body: unknown,
  declared: CompiledResponse | undefined,
  version: VersionContext | undefined,
): HttpResponse {
  let out = body;
  if (version?.downgrade !== undefined && out !== undefined) {
    out = version.downgrade(out, reply.status, route.spec, request);
  }
  const headers: Record<string, string | readonly string[]> = {};
  if (out !== undefined) headers['content-type'] = declared?.contentType ?? JSON_TYPE;
  if (reply.headers !== undefined) Object.assign(headers, reply.headers);
  return out === undefined
    ? { status: reply.status, headers }
    : { status: reply.status, headers, body: out };
}

function fail(
  route: CompiledRoute,
  request: HttpRequest,
  options: HandleOptions,
  status: number,
  what: string,
  list?: ErrorList,
): never {
  const error = ValidationErrors.VALIDATION_RESPONSE_INVALID({
    message: `${route.spec.method} ${route.spec.path} ${what}`,
    ...(list === undefined ? {} : { errors: list.errors }),
    details: { method: route.spec.method, route: route.spec.path, status },
    captureStack: false,
  });
  try {
    (options.report ?? route.report)(error, request);
  } catch {
    // A failing reporter must not turn a 500 into something else.
  }
  throw error;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Paths of keys the handler gave that the schema's output dropped. */
function unknownFields(
  input: unknown,
  output: unknown,
  path: string,
  out: string[],
  depth: number,
): void {
  if (depth > 32 || out.length >= DEFAULT_CAPS.maxErrors) return;
  if (Array.isArray(input) && Array.isArray(output) && input.length === output.length) {
    for (let i = 0; i < input.length; i++)
      unknownFields(input[i], output[i], `${path}/${i}`, out, depth + 1);
    return;
  }
  if (!isPlain(input) || !isPlain(output)) return;
  for (const key of Object.keys(input)) {
    if (input[key] === undefined) continue;
    const segment = key.replace(/~/g, '~0').replace(/\//g, '~1');
    if (!Object.hasOwn(output, key)) {
      if (out.length < DEFAULT_CAPS.maxErrors) out.push(`${path}/${segment}`);
    } else {
      unknownFields(input[key], output[key], `${path}/${segment}`, out, depth + 1);
    }
  }
}
