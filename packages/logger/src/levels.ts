import { err, ok, type ProdError, type Result } from '@prod/core';
import { LoggerErrors } from './errors.js';

/** The level names, from the most verbose; `silent` turns a logger off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A parsed level spec: an optional default level and per-module levels. */
export interface LevelSpec {
  /** The level of loggers without a module level; undefined when the spec names none. */
  readonly level: LogLevel | undefined;
  /** Module name to level. A module level also covers `module.sub` modules. */
  readonly modules: ReadonlyMap<string, LogLevel>;
}

const MAX_SPEC_LENGTH = 4096;
const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;

function invalid(message: string): Result<never, ProdError<'LOGGER_INVALID_LEVEL'>> {
  return err(LoggerErrors.LOGGER_INVALID_LEVEL(message));
}

/** Whether a value names a level (case-insensitive). */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Parses a level spec such as `LOG_LEVEL=info,cache=debug,db.pool=warn`: comma-separated
 * entries, at most one bare level (the default) and any number of `module=level`.
 * Level names are case-insensitive; spaces around entries are ignored.
 *
 * @returns `ok(LevelSpec)`, or `err` with `LOGGER_INVALID_LEVEL` for an unknown level, an
 *   empty entry, a bad module name, a repeated module or default, or a spec that is not a string.
 *
 * @example
 * const spec = parseLevelSpec('info,cache=debug');
 * if (spec.ok) spec.value.modules.get('cache'); // 'debug'
 */
export function parseLevelSpec(
  spec: unknown,
): Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>> {
  if (typeof spec !== 'string') return invalid(`A level spec must be a string, got ${typeof spec}`);
  if (spec.length > MAX_SPEC_LENGTH) {
    return invalid(`A level spec must be at most ${MAX_SPEC_LENGTH} characters`);
  }
  if (spec.trim() === '') return invalid('A level spec must not be empty');
  let level: LogLevel | undefined;
  const modules = new Map<string, LogLevel>();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') return invalid(`Empty entry in level spec "${spec}"`);
    const eq = entry.indexOf('=');
    if (eq === -1) {
      const name = entry.toLowerCase();
      if (!isLogLevel(name)) return unknownLevel(entry, spec);
      if (level !== undefined) return invalid(`Level spec "${spec}" names two default levels`);
      level = name;
      continue;
    }
    const module = entry.slice(0, eq).trim();
    const name = entry
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (!MODULE_NAME.test(module)) {
      return invalid(
        `Bad module name "${module.slice(0, 64)}" in level spec: use letters, digits and _ . : / -`,
      );
    }
    if (!isLogLevel(name)) return unknownLevel(name, spec);
    if (modules.has(module)) return invalid(`Level spec names module "${module}" twice`);
    modules.set(module, name);
  }
  return ok({ level, modules });
}

function unknownLevel(
  name: string,
  spec: string,
): Result<never, ProdError<'LOGGER_INVALID_LEVEL'>> {
  return invalid(
    `Unknown log level "${name.slice(0, 64)}" in "${spec.slice(0, 256)}"; expected one of ${LOG_LEVELS.join(', ')}`,
  );
}

/**
 * Writes a spec back in the `LOG_LEVEL` form (`info,cache=debug`), modules sorted by name.
 *
 * @example
 * formatLevelSpec({ level: 'info', modules: new Map([['cache', 'debug']]) }); // 'info,cache=debug'
 */
export function formatLevelSpec(spec: LevelSpec): string {
  const parts: string[] = spec.level === undefined ? [] : [spec.level];
  const names = [...spec.modules.keys()].sort();
  for (const name of names) parts.push(`${name}=${spec.modules.get(name)}`);
  return parts.join(',');
}
