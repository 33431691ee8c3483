import { err, ok, type ProdError, type Result } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import { type FlagDefinition, flagDefinitionSchema } from './flag-definition.js';
import type { FlagSource } from './types.js';

/** A {@link FlagSource} in memory that you edit: for tests, scripts, and single instances. */
export interface MemoryFlagSource extends FlagSource {
  /**
   * Sets a flag's definition.
   *
   * @returns `Ok`, or `Err` `CONFIG_FLAG_INVALID` when it is malformed (nothing changes).
   */
  set(key: string, definition: FlagDefinition): Result<void, ProdError>;
  /** Removes a flag's definition: it serves its default again. */
  remove(key: string): void;
  /** The kill switch: the flag serves its default from the code (`DISABLED`) until revived. */
  kill(key: string): void;
  /** Lifts the kill switch. */
  revive(key: string): void;
}

/**
 * A flag source held in memory.
 *
 * @example
 * const source = memoryFlagSource({ 'notes.search': { defaultVariant: 'on' } });
 * source.kill('notes.search');
 */
export function memoryFlagSource(
  initial: Readonly<Record<string, FlagDefinition>> = {},
): MemoryFlagSource {
  const definitions = new Map<string, unknown>();
  const killed = new Set<string>();
  const listeners = new Set<(changed: readonly string[] | undefined) => void>();
  const view = new Map<string, unknown>();
  const refresh = (key: string): void => {
    const definition = definitions.get(key);
    if (killed.has(key))
      view.set(key, { ...(typeof definition === 'object' ? definition : {}), enabled: false });
    else if (definition === undefined) view.delete(key);
    else view.set(key, definition);
    for (const listener of [...listeners]) listener([key]);
  };
  for (const [key, definition] of Object.entries(initial)) {
    definitions.set(key, definition);
    view.set(key, definition);
  }
  return {
    name: 'memory',
    definitions: () => view,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(key, definition) {
      const parsed = flagDefinitionSchema.safeParse(definition);
      if (!parsed.success) {
        return err(
          ConfigErrors.CONFIG_FLAG_INVALID({
            message: `flag ${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
            details: { key },
          }),
        );
      }
      definitions.set(key, definition);
      refresh(key);
      return ok();
    },
    remove(key) {
      definitions.delete(key);
      refresh(key);
    },
    kill(key) {
      killed.add(key);
      refresh(key);
    },
    revive(key) {
      killed.delete(key);
      refresh(key);
    },
  };
}
