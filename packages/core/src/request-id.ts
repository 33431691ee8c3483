import { randomUUID } from 'node:crypto';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether an incoming request id is safe to echo and log (short, no spaces or control chars). */
export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value);
}

/** The request id to use: the incoming one when safe, else a fresh UUID. */
export function requestIdFrom(incoming: unknown): string {
  return isSafeRequestId(incoming) ? incoming : randomUUID();
}
