import type { HttpRequest } from './http.js';
import { RequestSlot } from './request-slot.js';

/**
 * What the adapters' check of a parsed JSON body learned about it while it walked the body
 * anyway (for prototype keys and unstorable text), so that a later pass over the same body
 * can decide in O(1) that it has nothing to do. @prod/validation's sanitization reads it: a
 * body whose strings are plain and whose size is within the route's limits is not walked a
 * second time.
 *
 * Every field is an upper bound or a sufficient condition, never a guess: a profile may only
 * make a later pass skip work that would have changed nothing.
 */
export interface BodyProfile {
  /** The parsed body it describes (a profile holds for this very value only). */
  readonly body: unknown;
  /**
   * Whether every string value holds only printable ASCII (U+0020 - U+007E), tab, LF and CR:
   * then removing control or invisible characters and Unicode normalization change nothing.
   */
  readonly plainText: boolean;
  /** How many levels of objects and arrays nest: 0 for a scalar, 1 for `{}` or `[1, 2]`. */
  readonly depth: number;
  /** The keys of all objects together. */
  readonly keys: number;
  /** The items of the longest array (0 without one). */
  readonly longestArray: number;
  /** The length (UTF-16 code units) of the longest string value; keys are not counted. */
  readonly longestString: number;
  /**
   * Whether some key is `constructor` or `prototype`: harmless where they are (the adapters
   * refuse `__proto__` and `constructor.prototype`), but stricter checks refuse them anywhere.
   */
  readonly reservedKeys: boolean;
}

const PROFILE = new RequestSlot<BodyProfile>('@prod/core body profile');

/**
 * Records the profile of the body `request` holds; the adapters do it once they have checked
 * the body, and `fakeRequest` from @prod/testing does the same for a test's body.
 */
export function recordBodyProfile(request: object, profile: BodyProfile): void {
  PROFILE.set(request, profile);
}

/**
 * The profile recorded for `request`'s body, or undefined when none was recorded or the body
 * is no longer the value it describes (something replaced it). The profile describes the body
 * as it was parsed: code that edits the parsed body in place (a Fastify hook writing into
 * `request.body`) should assign a new object instead, which has no profile.
 *
 * @example
 * declare const request: HttpRequest;
 * const profile = bodyProfileOf(request);
 * if (profile?.plainText && profile.depth <= 8) {
 *   // every string of the body is printable ASCII, and it nests 8 levels at most
 * }
 */
export function bodyProfileOf(request: HttpRequest): BodyProfile | undefined {
  const profile = PROFILE.get(request);
  return profile !== undefined && profile.body === request.body ? profile : undefined;
}

/** The profile recorded on any object (the adapters' Node request), unchecked. */
export function recordedBodyProfile(holder: object): BodyProfile | undefined {
  return PROFILE.get(holder);
}
