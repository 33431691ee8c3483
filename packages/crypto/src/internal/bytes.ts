// Byte helpers shared by the package; never exported.
import { Buffer } from 'node:buffer';

/** Text or bytes, as every public function accepts them. */
export type BytesLike = string | Uint8Array;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** UTF-8 for strings, a view (no copy) for bytes; undefined for anything else. */
export function toBytes(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Strict base64url (no padding, no other alphabet): undefined when the text is not. */
export function fromBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

/** Key material given as bytes or as base64url text. */
export function keyBytes(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return fromBase64url(value);
  if (value instanceof Uint8Array) return Buffer.from(value);
  return undefined;
}
