import type { AnyJobDefinition } from '../types.js';

const JOB_BRAND = Symbol.for('@prod/queue/job');

/** Marks a definition as made by `defineJob` (what a queue accepts in `jobs`). */
export function brandJob<TDefinition extends object>(definition: TDefinition): TDefinition {
  Object.defineProperty(definition, JOB_BRAND, { value: true });
  return definition;
}

/** Whether `value` was made by `defineJob`. */
export function isDefinition(value: unknown): value is AnyJobDefinition {
  return typeof value === 'object' && value !== null && JOB_BRAND in value;
}
