export type { BodyProfile } from './body-profile.js';
export { bodyProfileOf, recordBodyProfile } from './body-profile.js';
export { parseByteSize } from './byte-size.js';
export type { Actor, ContextLogger, RequestContext } from './context.js';
export { contextExtension, currentContext, runWithContext } from './context.js';
export { CoreErrors } from './core-errors.js';
export type { DeadlineOptions, DeadlineOutcome } from './deadline.js';
export { withDeadline } from './deadline.js';
export type {
  ErrorCatalogue,
  ErrorDefinition,
  ErrorFactory,
  ErrorInput,
  ErrorOf,
} from './define-errors.js';
export { defineErrors } from './define-errors.js';
export { findForbiddenKey, prototypeIsPolluted } from './forbidden-keys.js';
export { bind, gen, genAsync } from './gen.js';
export type {
  EarlyResponse,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  Part,
  ResponseInfo,
  Route,
  RouteHandler,
  RouteMeta,
  RouteMetaKey,
  SendHook,
  SendInfo,
} from './http.js';
export { definePart, defineRouteMeta, json, KNOWN_HTTP_METHODS, ROUTE_METHODS } from './http.js';
export type { LingerBounds } from './lingering-close.js';
export {
  DEFAULT_LINGER,
  isLingering,
  lingerAfterLastAnswer,
  lingeringClose,
} from './lingering-close.js';
export type { MaybePromise } from './maybe-promise.js';
export { isThenable } from './maybe-promise.js';
export type { NumberRule, OptionChecks } from './option-checks.js';
export { MAX_TIMER_MS, optionChecks } from './option-checks.js';
export type { FieldError, ProblemDetails } from './problem.js';
export { PROBLEM_CONTENT_TYPE } from './problem.js';
export type {
  FromOptions,
  ProblemOptions,
  ProdErrorOptions,
  SerializedError,
} from './prod-error.js';
export { isProdError, ProdError } from './prod-error.js';
export { isSafeRequestId, requestIdFrom } from './request-id.js';
export { RequestSlot } from './request-slot.js';
export type { AsyncResult, Err, ErrOf, Ok, OkOf, Result } from './result.js';
export { err, isResult, ok } from './result.js';
export {
  andThenAsync,
  fromPromise,
  fromThrowable,
  mapAsync,
  mapErrAsync,
  orElseAsync,
  tapAsync,
} from './result-async.js';
export type { MatchHandlers } from './result-ops.js';
export {
  all,
  andThen,
  collect,
  map,
  mapErr,
  match,
  orElse,
  partition,
  tap,
  tapErr,
  unwrap,
  unwrapOr,
} from './result-ops.js';
export { statusText } from './status-text.js';
export { toHttpResponse } from './to-http-response.js';
