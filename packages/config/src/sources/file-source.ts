import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { optionChecks } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import { type FileFormat, formatOf, readConfigFile } from '../internal/read-file.js';
import type { RuntimeSink, RuntimeSource } from '../types.js';

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** Default: from the extension (`.json`, `.yaml`, `.yml`). */
  readonly format?: FileFormat;
  /** Waits this long after the last change before reading (editors write in steps). Default 50 ms. */
  readonly debounceMs?: number;
  /** Largest file read, in bytes. Default 1 MiB. */
  readonly maxFileBytes?: number;
  /** Base of a relative path. Default `process.cwd()`. */
  readonly cwd?: string;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);

/**
 * A runtime source that reads a JSON or YAML file and watches it: every change is validated
 * and applied, or rejected with the configuration kept. The folder is watched, not the file,
 * so atomic replacements (write then rename, a Kubernetes ConfigMap's symlink swap) are seen.
 * A missing or unparsable file at start fails `watch()`; later, it is reported and skipped.
 *
 * @example
 * declare const config: { watch(source: ReturnType<typeof fileSource>): Promise<unknown> };
 * await config.watch(fileSource('/etc/notes/runtime.yaml'));
 */
export function fileSource(path: string, options: FileSourceOptions = {}): RuntimeSource {
  check.string('path', path, '', { nonEmpty: true });
  const format = check.oneOf('format', options.format ?? formatOf(path), ['json', 'yaml'], 'json');
  const debounceMs = check.duration('debounceMs', options.debounceMs, 50);
  const maxFileBytes = check.integer('maxFileBytes', options.maxFileBytes, 1024 * 1024, { min: 1 });
  const full = resolve(check.string('cwd', options.cwd, process.cwd()), path);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastHash: string | undefined;
  const name = `file:${path}`;

  const read = (sink: RuntimeSink, initial: boolean): void => {
    const parsed = readConfigFile(full, format, maxFileBytes);
    if (!parsed.ok) {
      const error = ConfigErrors.CONFIG_SOURCE_FAILED({
        message: `${name}: ${parsed.reason}`,
        details: { source: name },
      });
      if (initial) throw error;
      sink.fail(error);
      return;
    }
    const hash = createHash('sha256').update(JSON.stringify(parsed.value)).digest('hex');
    if (hash === lastHash) return;
    lastHash = hash;
    sink.update(parsed.value);
  };

  return {
    name,
    start(sink) {
      read(sink, true);
      const file = basename(full);
      watcher = watch(dirname(full), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== file && !String(changed).startsWith('..')) return;
        clearTimeout(timer);
        timer = setTimeout(() => read(sink, false), debounceMs);
        timer.unref();
      });
      watcher.on('error', (error) => sink.fail(error));
    },
    stop() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
