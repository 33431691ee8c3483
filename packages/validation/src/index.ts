export type { ApiPartOptions } from './api-part.js';
export { apiPart, apiVersionMeta } from './api-part.js';
export type { ValidatedRoute } from './define-route.js';
export { defineRoute } from './define-route.js';
export type { DocsPage, DocsPageOptions } from './docs-page.js';
export { renderDocsPage } from './docs-page.js';
export { ValidationErrors } from './errors.js';
export type { InferInput, InferReply } from './infer.js';
export type { RawInput, VersionContext } from './internal/route-runtime.js';
export type { JsonObject, OpenApiInfo, OpenApiOptions, SecurityScheme } from './openapi.js';
export { openApiDocument } from './openapi.js';
export type { OpenApiPartOptions } from './openapi-part.js';
export { openApiPart } from './openapi-part.js';
export type { Pipeline, PipelineStep } from './pipeline.js';
export { pipeline } from './pipeline.js';
export { FieldErrorSchema, ProblemSchema, problemResponse } from './problem.js';
export type { RouteSpec } from './route-meta.js';
export { routeSpecMeta } from './route-meta.js';
export type { SafeJsonOptions } from './safe-json.js';
export { safeJsonParse } from './safe-json.js';
export type { FieldSanitizer } from './sanitize.js';
export { DEFAULT_STRING_STEPS, sanitized, sanitizers, sanitizeString } from './sanitize.js';
export type {
  DeprecationInfo,
  HttpStatusCode,
  InputLimits,
  PathParamNames,
  PathParams,
  Reply,
  ReplyBuilder,
  ReplyFor,
  ReplyHeaders,
  RequestOptions,
  RequestSchemas,
  ResponseBody,
  ResponseDeclaration,
  ResponseHeader,
  ResponseObject,
  ResponsesDeclaration,
  ResponseValidation,
  RouteDefinition,
  RouteInput,
  SanitizeOptions,
  SanitizeStep,
  Schema,
  TypedHandler,
} from './types.js';
export type { ValidateOptions, ValidationError } from './validate.js';
export { validate, validateAsync } from './validate.js';
export type {
  ApiVersion,
  ApiVersions,
  ApiVersionsOptions,
  ChangeContext,
  VersionChange,
  VersionedRequest,
} from './versioning.js';
export { apiVersions, deprecationHeaders } from './versioning.js';
