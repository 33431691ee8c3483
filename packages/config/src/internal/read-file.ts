import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { findForbiddenKey } from '@prod/core';
import { parse as parseYaml } from 'yaml';

/** The formats a configuration file may be in. */
export type FileFormat = 'json' | 'yaml';

/** What reading a file gave: its text, or why not. */
export type ReadText =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** What parsing a file gave: a plain object, or why not. */
export type ParsedFile =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/**
 * Reads a whole file as UTF-8, refusing it when larger than `maxBytes` (checked on the open
 * descriptor before reading, and again while reading, so a file growing under us is bounded).
 */
export function readText(path: string, maxBytes: number): ReadText {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      missing: code === 'ENOENT',
      reason:
        code === 'ENOENT' ? 'the file does not exist' : `cannot open the file (${code ?? 'error'})`,
    };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, missing: false, reason: 'not a regular file' };
    if (stat.size > maxBytes) {
      return {
        ok: false,
        missing: false,
        reason: `the file is ${stat.size} bytes, over the limit of ${maxBytes}`,
      };
    }
    const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(stat.size, 0) + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        return {
          ok: false,
          missing: false,
          reason: `the file is over the limit of ${maxBytes} bytes`,
        };
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) {
        return {
          ok: false,
          missing: false,
          reason: `the file is over the limit of ${maxBytes} bytes`,
        };
      }
    }
    const text = buffer.subarray(0, length).toString('utf8');
    return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch (error) {
    return {
      ok: false,
      missing: false,
      reason: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    };
  } finally {
    closeSync(fd);
  }
}

/** `json` for `.json`, `yaml` for `.yaml` / `.yml`, else undefined. */
export function formatOf(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/**
 * Parses configuration text into a plain object: JSON, or YAML 1.2 (core schema, unique keys,
 * at most 100 aliases, so an alias bomb is refused). An empty file is `{}`. A key that could
 * pollute prototypes (`__proto__`, `constructor.prototype`) or nesting deeper than 64 levels
 * refuses the whole file.
 */
export function parseConfigText(text: string, format: FileFormat): ParsedFile {
  let value: unknown;
  try {
    if (format === 'json') {
      value = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    } else {
      value =
        parseYaml(text, {
          schema: 'core',
          uniqueKeys: true,
          maxAliasCount: 100,
          prettyErrors: false,
          merge: false,
        }) ?? {};
    }
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    return {
      ok: false,
      missing: false,
      reason: `not valid ${format.toUpperCase()}: ${message.slice(0, 200)}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      missing: false,
      reason: `the top level must be an object, found ${Array.isArray(value) ? 'an array' : typeof value}`,
    };
  }
  const forbidden = findForbiddenKey(value);
  if (forbidden !== undefined) {
    return {
      ok: false,
      missing: false,
      reason: forbidden.endsWith('/...')
        ? 'nested deeper than 64 levels'
        : `holds the forbidden key ${forbidden} (prototype pollution)`,
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Reads and parses a configuration file. */
export function readConfigFile(path: string, format: FileFormat, maxBytes: number): ParsedFile {
  const text = readText(path, maxBytes);
  if (!text.ok) return text;
  return parseConfigText(text.text, format);
}
