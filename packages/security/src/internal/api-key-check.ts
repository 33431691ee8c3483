import type { MaybePromise, Result } from '@prod/core';
import type { SecurityActor } from '../actor.js';
import type { ApiKeyError } from '../errors.js';

/**
 * The check behind `ApiKeys.verify`, answering synchronously when the key's lookup is cached,
 * so that `authPart` makes no promise for a cached key (each one costs an AsyncLocalStorage
 * hook). Kept off the public surface under a symbol of this package.
 */
export type ApiKeyCheck = (token: unknown) => MaybePromise<Result<SecurityActor, ApiKeyError>>;

export const API_KEY_CHECK: unique symbol = Symbol('@prod/security/api-key-check');

/** The check of keys made by `createApiKeys`, or undefined for any other object. */
export function apiKeyCheckOf(apiKeys: object): ApiKeyCheck | undefined {
  const found = (apiKeys as Record<symbol, unknown>)[API_KEY_CHECK];
  return typeof found === 'function' ? (found as ApiKeyCheck) : undefined;
}
