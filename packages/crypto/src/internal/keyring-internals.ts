// What the other modules of the package (JWE, envelopes, field encryption) need of a keyring
// beyond its public interface: raw key objects. Kept off the public object, in a WeakMap.
import type { KeyObject } from 'node:crypto';
import type { ProdError } from '@prod/core';
import type { AeadAlgorithm } from './aead.js';

export interface RawKey {
  readonly id: number;
  readonly algorithm: AeadAlgorithm;
  readonly key: KeyObject;
}

export interface KeyringInternals {
  /** An enabled or primary key by id. */
  key(id: number): RawKey | undefined;
  primary(): RawKey;
  /** Every key that may decrypt. */
  usable(): RawKey[];
  /** Counts one message against the primary key's budget; an error when it is exhausted. */
  count(): ProdError | undefined;
}

const registry = new WeakMap<object, KeyringInternals>();

export function registerInternals(keyring: object, internals: KeyringInternals): void {
  registry.set(keyring, internals);
}

export function internalsOf(keyring: unknown): KeyringInternals | undefined {
  return typeof keyring === 'object' && keyring !== null ? registry.get(keyring) : undefined;
}
