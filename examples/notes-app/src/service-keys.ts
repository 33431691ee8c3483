import { err, ok, type ProdError, type Result } from '@prod/core';
import {
  createKeyring,
  generateKey,
  type Keyring,
  keyringFromJson,
  randomToken,
} from '@prod/crypto';
import type { ServiceConfig } from './config.js';

/** The key material of a service: the notes keyring and the audit signing key. */
export interface ServiceKeys {
  /** Encrypts note bodies at rest (`NOTES_KEYS`, or one ephemeral key). */
  readonly keyring: Keyring;
  /** Signs the audit log's checkpoints (`AUDIT_SIGNING_KEY`, or an ephemeral one). */
  readonly signingKey: string;
  /** The variables that were unset and got an ephemeral key (development and test only). */
  readonly ephemeral: readonly ('NOTES_KEYS' | 'AUDIT_SIGNING_KEY')[];
}

/**
 * The keys of the configuration, or ephemeral ones where it has none: a fresh random key that
 * lives as long as the process. The configuration refuses to start without them in production
 * and with `NOTES_STORE=postgres`, so an ephemeral key only ever protects data that dies with
 * the process too (the memory store, the in-memory PGlite).
 *
 * @returns `Ok(ServiceKeys)`; `Err` `CRYPTO_INVALID_KEY` for a keyring the configuration let
 * through but @prod/crypto refuses (it checks the same way: not expected).
 */
export function serviceKeys(config: ServiceConfig): Result<ServiceKeys, ProdError> {
  const ephemeral: ('NOTES_KEYS' | 'AUDIT_SIGNING_KEY')[] = [];
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
  return ok({ keyring, signingKey, ephemeral });
}
