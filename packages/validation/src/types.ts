import type {
  HttpMethod,
  HttpRequest,
  MaybePromise,
  ProdError,
  Result,
  RouteMeta,
} from '@prod/core';
import type * as z from 'zod';

/**
 * One step of a string's sanitization, by name or as a function:
 *
 * | step | what it does |
 * | --- | --- |
 * | `trim` | removes white space at both ends |
 * | `nfc` | Unicode normalization form C (one spelling for `é`) |
 * | `stripControl` | removes C0 and C1 control characters except tab, line feed and carriage return |
 * | `stripInvisible` | removes zero-width and bidirectional formatting characters (U+200B, U+200E/F, U+202A-E, U+2060-4, U+2066-9, U+FEFF, U+00AD), keeping ZWJ/ZWNJ that emoji and some scripts need |
 * | `escapeHtml` | `&`, `<`, `>`, `"`, `'` as entities: for plain-text fields shown in HTML |
 * | `stripHtml` | removes tags (and the content of `script` and `style`), then any `<` or `>` left |
 * | `lowercase` | lower case |
 * | `email` | trims, lower-cases the domain and turns an internationalized domain to ASCII (punycode) |
 * | `url` | the WHATWG URL serialization (lower-case scheme and host, punycode, default port and dot segments removed); text that does not parse as a URL is left for validation to refuse |
 */
export type SanitizeStep =
  | 'trim'
  | 'nfc'
  | 'stripControl'
  | 'stripInvisible'
  | 'escapeHtml'
  | 'stripHtml'
  | 'lowercase'
  | 'email'
  | 'url'
  | ((value: string) => string);

/** Bounds that input is held to before it is validated. */
export interface InputLimits {
  /** Deepest nesting of objects and arrays. Default 32. */
  readonly maxDepth?: number;
  /** Most object keys in the whole input. Default 1000. */
  readonly maxKeys?: number;
  /** Longest array. Default 10,000. */
  readonly maxItems?: number;
  /** Longest string, in UTF-16 code units, after sanitization. Default 1,000,000. */
  readonly maxStringLength?: number;
}

/** The sanitization a route (or {@link validate}) applies before validation. */
export interface SanitizeOptions {
  /**
   * Steps applied to every string of the input (params, query, headers and body), before the
   * field's own steps (`sanitized`). Default `['stripControl', 'stripInvisible', 'nfc']`;
   * `[]` for none.
   */
  readonly strings?: readonly SanitizeStep[];
  readonly limits?: InputLimits;
}

/** Any zod 4 schema (classic or mini). */
export type Schema = z.core.$ZodType;

/** What a request declares: the zod schema of each of its parts. */
export interface RequestSchemas {
  /** Path parameters (`/notes/:id`): an object schema whose keys are the path's parameters. */
  readonly params?: Schema;
  /** The query string: an object schema. Repeated keys arrive as arrays of strings. */
  readonly query?: Schema;
  /** Request headers: an object schema with lower-case keys; only its keys are read. */
  readonly headers?: Schema;
  /** The JSON body. */
  readonly body?: Schema;
}

/** How a request body is accepted, beside its schema. */
export interface RequestOptions extends RequestSchemas {
  /**
   * Largest body in bytes (or `'16kb'`, 1024-based), stricter than the adapter's global
   * `bodyLimit`: a declared `Content-Length` over it is refused with `413 PAYLOAD_TOO_LARGE`
   * before a byte is read when the route is mounted through {@link apiPart}, and a body over
   * it is refused before validation anywhere.
   */
  readonly bodyLimit?: number | string;
  /**
   * The JSON media types this route accepts (`['application/merge-patch+json']`); others are
   * `415 UNSUPPORTED_MEDIA_TYPE`. Default: any JSON type the adapter accepts
   * (`application/json`, `application/*+json`).
   */
  readonly contentTypes?: readonly string[];
  /** What the body is, for the OpenAPI document. */
  readonly description?: string;
  /** Named examples of the body, for the OpenAPI document. */
  readonly examples?: Readonly<Record<string, unknown>>;
}

/** A documented response header. */
export interface ResponseHeader {
  readonly schema: Schema;
  readonly description?: string;
  readonly required?: boolean;
}

/** A response declared in full: its schema and what the OpenAPI document says about it. */
export interface ResponseObject<TSchema extends Schema | null = Schema | null> {
  /** The body's schema; `null` for a response without a body. */
  readonly schema: TSchema;
  /** Default: the status text. */
  readonly description?: string;
  /** Default `application/json` (`application/problem+json` for {@link problemResponse}). */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, ResponseHeader>>;
  /** Named examples of the body, for the OpenAPI document. */
  readonly examples?: Readonly<Record<string, unknown>>;
}

/** What a route declares for one status: a schema, `null` (no body), or a {@link ResponseObject}. */
export type ResponseDeclaration = Schema | null | ResponseObject;

/** The responses of a route, by status. */
export type ResponsesDeclaration = { readonly [status: number]: ResponseDeclaration };

/** The body a handler gives for one declared response (the schema's input type). */
export type ResponseBody<TDeclaration> = TDeclaration extends null
  ? undefined
  : TDeclaration extends ResponseObject<infer TSchema>
    ? TSchema extends Schema
      ? z.input<TSchema>
      : undefined
    : TDeclaration extends Schema
      ? z.input<TDeclaration>
      : never;

/** Response headers a handler may set. */
export type ReplyHeaders = Readonly<Record<string, string | readonly string[]>>;

/** One typed answer for one status of a route. */
export type ReplyFor<TStatus extends number, TDeclaration> = [ResponseBody<TDeclaration>] extends [
  undefined,
]
  ? { readonly status: TStatus; readonly body?: undefined; readonly headers?: ReplyHeaders }
  : {
      readonly status: TStatus;
      readonly body: ResponseBody<TDeclaration>;
      readonly headers?: ReplyHeaders;
    };

/** The HTTP status codes of the IANA registry (and 418). */
export type HttpStatusCode =
  | 100
  | 101
  | 102
  | 103
  | 200
  | 201
  | 202
  | 203
  | 204
  | 205
  | 206
  | 207
  | 208
  | 226
  | 300
  | 301
  | 302
  | 303
  | 304
  | 305
  | 307
  | 308
  | 400
  | 401
  | 402
  | 403
  | 404
  | 405
  | 406
  | 407
  | 408
  | 409
  | 410
  | 411
  | 412
  | 413
  | 414
  | 415
  | 416
  | 417
  | 418
  | 421
  | 422
  | 423
  | 424
  | 425
  | 426
  | 428
  | 429
  | 431
  | 451
  | 500
  | 501
  | 502
  | 503
  | 504
  | 505
  | 506
  | 507
  | 508
  | 510
  | 511;

// Mapped over a fixed union of literal statuses, not over `keyof TResponses`: a handler without
// parameters is checked before `TResponses` is inferred, and only a contextual type made of
// literals keeps `status: 200` from widening to `number` there.
type KnownReply<TResponses extends ResponsesDeclaration> = {
  [TStatus in HttpStatusCode]: TStatus extends keyof TResponses
    ? ReplyFor<TStatus, TResponses[TStatus]>
    : never;
}[HttpStatusCode];

type OtherStatus<TResponses> = Exclude<keyof TResponses & number, HttpStatusCode>;

type OtherReply<TResponses extends ResponsesDeclaration> = {
  [TStatus in OtherStatus<TResponses>]: ReplyFor<TStatus, TResponses[TStatus]>;
}[OtherStatus<TResponses>];

/** Every answer a route's handler may give: one per declared status, each with its body type. */
export type Reply<TResponses extends ResponsesDeclaration> =
  | KnownReply<TResponses>
  | OtherReply<TResponses>;

type Trim<TSegment extends string> = TSegment extends `${infer THead}/${string}` ? THead : TSegment;

/** The parameter names of a path template: `'/a/:id/b/:key'` gives `'id' | 'key'`. */
export type PathParamNames<TPath extends string> = TPath extends `${string}:${infer TRest}`
  ? Trim<TRest> | PathParamNames<TRest extends `${string}/${infer TNext}` ? `/${TNext}` : ''>
  : never;

/** The path parameters of a template as strings, when no `params` schema is declared. */
export type PathParams<TPath extends string> = { readonly [K in PathParamNames<TPath>]: string };

type Parsed<TSchema, TFallback> = TSchema extends Schema ? z.output<TSchema> : TFallback;

/** Builds one of a route's declared answers: `reply(201, note, { location })`. */
export type ReplyBuilder<TResponses extends ResponsesDeclaration> = <
  TStatus extends keyof TResponses & number,
>(
  status: TStatus,
  ...rest: [ResponseBody<TResponses[TStatus]>] extends [undefined]
    ? [body?: undefined, headers?: ReplyHeaders]
    : [body: ResponseBody<TResponses[TStatus]>, headers?: ReplyHeaders]
) => ReplyFor<TStatus, TResponses[TStatus]>;

/** What a route's handler receives: each part parsed by its schema, typed by it. */
export interface RouteInput<
  TPath extends string,
  TRequest extends RequestSchemas,
  TResponses extends ResponsesDeclaration = ResponsesDeclaration,
> {
  readonly params: Parsed<TRequest['params'], PathParams<TPath>>;
  readonly query: Parsed<TRequest['query'], HttpRequest['query']>;
  readonly headers: Parsed<TRequest['headers'], HttpRequest['headers']>;
  readonly body: Parsed<TRequest['body'], undefined>;
  /** The API version the request was resolved to (see {@link apiVersions}), if any. */
  readonly version: string | undefined;
  /** The request view, for what the schemas do not cover (ip, signal, meta). */
  readonly request: HttpRequest;
  /** Builds a declared answer, typed by its status (the same as returning `{ status, body }`). */
  readonly reply: ReplyBuilder<TResponses>;
}

/** A handler of a route: typed input in, one of the declared responses out. */
export type TypedHandler<
  TPath extends string,
  TRequest extends RequestSchemas,
  TResponses extends ResponsesDeclaration,
> = (
  input: RouteInput<TPath, TRequest, TResponses>,
) => MaybePromise<Reply<TResponses> | Result<Reply<TResponses>, ProdError>>;

/**
 * What happens to a handler's answer:
 * - `strict`: the body must match the schema of its status exactly, unknown fields included;
 *   otherwise `500 VALIDATION_RESPONSE_INVALID` (logged) and the body is never sent;
 * - `strip`: unknown fields are removed (so internal fields cannot leak); any other mismatch is
 *   a `500 VALIDATION_RESPONSE_INVALID` as in strict mode;
 * - `off`: sent as answered.
 */
export type ResponseValidation = 'strict' | 'strip' | 'off';

/** Dates of a deprecated route or API version (`Deprecation`, `Sunset`, `Link` headers). */
export interface DeprecationInfo {
  /** When it was (or will be) deprecated: `Deprecation: @<seconds>` (RFC 9745). */
  readonly at?: Date | string;
  /** When it stops answering: `Sunset: <HTTP-date>` (RFC 8594). */
  readonly sunset?: Date | string;
  /** A page about the deprecation: `Link: <url>; rel="deprecation"`. */
  readonly link?: string;
}

/** Everything a route is declared with (see {@link defineRoute}). */
export interface RouteDefinition<
  TPath extends string,
  TRequest extends RequestSchemas,
  TResponses extends ResponsesDeclaration,
> {
  readonly method: HttpMethod;
  /** A path template with `:param` segments (`/v1/notes/:id`). */
  readonly path: TPath;
  /** Default: made from the method and the path (`getV1NotesById`). */
  readonly operationId?: string;
  /** Default: `<METHOD> <path>`. */
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  /** `true`, or dates that also send `Deprecation` / `Sunset` headers through {@link apiPart}. */
  readonly deprecated?: boolean | DeprecationInfo;
  /** Security requirements (`[{ bearer: [] }]`); `[]` for a public route. Default: the document's. */
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly request?: TRequest & RequestOptions;
  readonly responses: TResponses;
  /** Default: `strip` when `NODE_ENV` is `production`, else `strict`. */
  readonly responseValidation?: ResponseValidation;
  /** Most field errors a `400 VALIDATION_INVALID_INPUT` lists (`details.errorCount` has all). Default 50. */
  readonly maxErrors?: number;
  /** Sanitization before validation; `false` for none. Default: see {@link SanitizeOptions}. */
  readonly sanitize?: SanitizeOptions | false;
  /** Told when a response fails validation. Default: the context logger, else `console.error`. */
  readonly onInvalidResponse?: (
    error: ProdError<'VALIDATION_RESPONSE_INVALID'>,
    request: HttpRequest,
  ) => void;
  /** Metadata of other packages (`rateLimitPolicy(...)`), spread into the route's `meta`. */
  readonly meta?: RouteMeta;
  readonly handler: NoInfer<TypedHandler<TPath, TRequest, TResponses>>;
}
