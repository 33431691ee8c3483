// Hashing and signing of records: the rules a writer and a verifier must share.
import { hmacHex, safeEqual, sha256 } from '@prod/crypto';
import type { AuditCheckpoint, AuditRecord } from '../types.js';
import { canonicalJson } from './canonical.js';

export const ZERO_HASH = '0'.repeat(64);

type Without<TRecord, TKeys extends string> = Omit<TRecord, TKeys>;

/** SHA-256 (hex) of the record without its `hash`: the chain hash. */
export function recordHash(record: Without<AuditRecord, 'hash'> | Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record as Record<string, unknown>;
  return sha256(canonicalJson(rest)).toString('hex');
}

/** SHA-256 (hex) of the record without seq, prevHash and hash: what a checkpoint signs. */
export function contentDigest(record: AuditRecord | Record<string, unknown>): string {
  const { hash: _hash, seq: _seq, prevHash: _prev, ...rest } = record as Record<string, unknown>;
  return sha256(canonicalJson(rest)).toString('hex');
}

/** The public fingerprint of a signing key: SHA-256 of it, first 16 hex digits. */
export function keyFingerprint(key: Uint8Array): string {
  return sha256(key).toString('hex').slice(0, 16);
}

/**
 * HMAC-SHA-256 (hex) of the checkpoint without `signature`, `hash` and `prevHash`. The link is
 * left out on purpose: someone who rewrites the chain before a checkpoint must change its
 * `prevHash`, and the signature must still hold so that its digests can name what they changed.
 */
export function checkpointSignature(
  key: Uint8Array,
  checkpoint: Omit<AuditCheckpoint, 'signature' | 'hash'> | Record<string, unknown>,
): string {
  const {
    signature: _signature,
    hash: _hash,
    prevHash: _prev,
    ...rest
  } = checkpoint as Record<string, unknown>;
  return hmacHex(key, canonicalJson(rest));
}

export function signatureMatches(key: Uint8Array, checkpoint: Record<string, unknown>): boolean {
  return safeEqual(checkpointSignature(key, checkpoint), String(checkpoint.signature));
}
