import { err, ok, type ProdError, type Result } from '@prod/core';
import type { CheckKind, HealthCheck } from '../check.js';
import { HealthErrors } from '../errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const KINDS: ReadonlySet<string> = new Set<CheckKind>(['liveness', 'readiness', 'startup']);
const MAX_MS = 2_147_483_647; // setTimeout's ceiling

/** A check with every default filled in and every field validated. */
export interface NormalizedCheck {
  readonly key: string;
  readonly name: string;
  readonly measurement: string;
  readonly kinds: ReadonlySet<CheckKind>;
  readonly critical: boolean;
  readonly timeout: number;
  readonly interval: number | undefined;
  readonly cacheTtl: number;
  readonly staleAfter: number;
  readonly componentType: string;
  readonly componentId: string | undefined;
  readonly definition: HealthCheck;
}

function invalid(message: string): Result<never, ProdError<'HEALTH_INVALID_CHECK'>> {
  return err(HealthErrors.HEALTH_INVALID_CHECK({ message }));
}

function duration(value: unknown, field: string, min: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_MS) {
    return `${field} must be a number of milliseconds between ${min} and ${MAX_MS}`;
  }
  return undefined;
}

/** Validates an untrusted check definition and fills in its defaults. */
export function validateCheck(
  input: unknown,
): Result<NormalizedCheck, ProdError<'HEALTH_INVALID_CHECK'>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return invalid('a health check must be an object');
  }
  const check = input as Partial<Record<keyof HealthCheck, unknown>>;
  const name = check.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    return invalid(
      'check name must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
    );
  }
  const measurement = check.measurement ?? 'responseTime';
  if (typeof measurement !== 'string' || !NAME.test(measurement)) {
    return invalid(`check "${name}": measurement must use the same alphabet as the name`);
  }
  const rawKinds = Array.isArray(check.kind) ? (check.kind as unknown[]) : [check.kind];
  if (rawKinds.length === 0 || rawKinds.some((k) => typeof k !== 'string' || !KINDS.has(k))) {
    return invalid(`check "${name}": kind must be liveness, readiness or startup (or a list)`);
  }
  if (typeof check.check !== 'function') {
    return invalid(`check "${name}": check must be a function`);
  }
  if (check.critical !== undefined && typeof check.critical !== 'boolean') {
    return invalid(`check "${name}": critical must be a boolean`);
  }
  const problem =
    duration(check.timeout, 'timeout', 1) ??
    duration(check.interval, 'interval', 1) ??
    duration(check.cacheTtl, 'cacheTtl', 0) ??
    duration(check.staleAfter, 'staleAfter', 1);
  if (problem !== undefined) return invalid(`check "${name}": ${problem}`);
  for (const field of ['componentType', 'componentId'] as const) {
    const value = check[field];
    if (value !== undefined && (typeof value !== 'string' || value.length > 256)) {
      return invalid(`check "${name}": ${field} must be a string of at most 256 characters`);
    }
  }
  for (const field of ['start', 'stop'] as const) {
    if (check[field] !== undefined && typeof check[field] !== 'function') {
      return invalid(`check "${name}": ${field} must be a function`);
    }
  }
  const timeout = (check.timeout as number | undefined) ?? 1000;
  const interval = check.interval as number | undefined;
  return ok({
    key: `${name}:${measurement}`,
    name,
    measurement,
    kinds: new Set(rawKinds as CheckKind[]),
    critical: (check.critical as boolean | undefined) ?? true,
    timeout,
    interval,
    cacheTtl: (check.cacheTtl as number | undefined) ?? 1000,
    staleAfter:
      (check.staleAfter as number | undefined) ??
      (interval === undefined ? Number.POSITIVE_INFINITY : 2 * interval + timeout),
    componentType: (check.componentType as string | undefined) ?? 'component',
    componentId: check.componentId as string | undefined,
    definition: input as HealthCheck,
  });
}
