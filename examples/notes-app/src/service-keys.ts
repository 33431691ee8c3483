import { err, ok, type ProdError, type Result } from '@prod/core';
import {
  createKeyring,
  generateKey,
  type Keyring,
  keyringFromJson,
  randomToken,
} from '@prod/crypto';
import type { ServiceConfig } from './config.js';

/** A variable that was unset and got an ephemeral key. */
export type EphemeralKey = 'NOTES_KEYS' | 'AUDIT_SIGNING_KEY' | 'API_KEY_SECRET';

/** The key material of a service: the notes keyring, the audit signing key, the API key secret. */
export interface ServiceKeys {
  /** Encrypts note bodies at rest (`NOTES_KEYS`, or one ephemeral key). */
  readonly keyring: Keyring;
  /** Signs the audit log's checkpoints (`AUDIT_SIGNING_KEY`, or an ephemeral one). */
  readonly signingKey: string;
  /** Hashes the API keys in their store (`API_KEY_SECRET`, or an ephemeral one). */
  readonly apiKeySecret: string;
  /** The variables that were unset and got an ephemeral key (development and test only). */
  readonly ephemeral: readonly EphemeralKey[];
}

/**
 * The keys of the configuration, or ephemeral ones where it has none: a fresh random key that
 * lives as long as the process. The configuration refuses to start without them in production
 * and with `NOTES_STORE=postgres`, so an ephemeral key only ever protects data that dies with
 * the process too (the memory store, the in-memory PGlite): the note bodies, the audit
 * checkpoints, and the API keys (the demo key of the start banner).
 *
 * @returns `Ok(ServiceKeys)`; `Err` `CRYPTO_INVALID_KEY` for a keyring the configuration let
 * through but @prod/crypto refuses (it checks the same way: not expected).
 */
export function serviceKeys(config: ServiceConfig): Result<ServiceKeys, ProdError> {
  const ephemeral: EphemeralKey[] = [];
  let keyring: Keyring;
  if (config.notesKeys === undefined) {
    ephemeral.push('NOTES_KEYS');
    keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
  } else {
    const configured = keyringFromJson(config.notesKeys.reveal());
    if (!configured.ok) return err(configured.error);
    keyring = configured.value;
  }
  let signingKey: string;
  if (config.auditSigningKey === undefined) {
    ephemeral.push('AUDIT_SIGNING_KEY');
    signingKey = randomToken(32);
  } else {
    signingKey = config.auditSigningKey.reveal();
  }
  let apiKeySecret: string;
  if (config.apiKeySecret === undefined) {
    ephemeral.push('API_KEY_SECRET');
    apiKeySecret = randomToken(32);
  } else {
    apiKeySecret = config.apiKeySecret.reveal();
  }
  return ok({ keyring, signingKey, apiKeySecret, ephemeral });
}
