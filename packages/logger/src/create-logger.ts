import { err, ok, type ProdError, type Result } from '@prod/core';
import {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger as PinoLogger,
  type LoggerOptions as PinoOptions,
  pino,
} from 'pino';
import { type DedupeOptions, Deduper } from './dedupe.js';
import { LoggerErrors } from './errors.js';
import {
  contextFragment,
  contextMixin,
  mergeContext,
  withoutContextKeys,
} from './internal/context-fields.js';
import { isoTime } from './internal/iso-time.js';
import { LevelRegistry, MODULE } from './internal/level-registry.js';
import { check } from './internal/options.js';
import { formatLevelSpec, type LevelSpec, parseLevelSpec } from './levels.js';
import { createLineRedactor, type RedactOptions } from './redact.js';
import { serializeError } from './serializers.js';

/** What `createLogger` takes. Every option is optional. */
export interface LoggerOptions {
  /** Written as `name` on every line (the service name). Default: none. */
  readonly name?: string;
  /**
   * A level spec: a level (`info`) or a level with module levels (`info,cache=debug`).
   * Default: `process.env.LOG_LEVEL`, else `'info'`.
   */
  readonly level?: string;
  /**
   * Where lines go: a stream (anything with `write(line)`), a file descriptor or a file path.
   * Default: standard output.
   */
  readonly destination?: DestinationStream | number | string;
  /**
   * Human-readable output through the optional peer `pino-pretty` (in a worker thread); an
   * object is passed to pino-pretty as its options. Only for development. Default false.
   */
  readonly pretty?: boolean | Readonly<Record<string, unknown>>;
  /** Secret redaction; `false` turns it off. Default on with {@link DEFAULT_REDACT_KEYS}. */
  readonly redact?: boolean | RedactOptions;
  /** Repeated-line folding; `false` turns it off. Default on: 100 per message per second. */
  readonly dedupe?: boolean | DedupeOptions;
  /** Add `requestId`, `traceId`, `spanId` of the current request context. Default true. */
  readonly context?: boolean;
  /** Fields on every line. Default: pino's `{ pid, hostname }`; `null` for none. */
  readonly base?: Readonly<Record<string, unknown>> | null;
  /** Extra pino serializers by key; `err` and `error` already use `serializeError`. */
  readonly serializers?: Readonly<Record<string, (value: unknown) => unknown>>;
}

/** The runtime controls @prod/logger adds to a pino logger. */
export interface LoggerControls {
  /**
   * Changes levels at runtime, reaching every logger already created from this one.
   * `setLevel('debug')` sets the default; `setLevel('info,cache=debug')` sets the default and
   * module levels (other module levels stay); `setLevel('cache', 'debug')` sets one module;
   * `setLevel('cache', null)` drops it, so it follows the default again.
   *
   * @returns `ok` with the resulting spec, or `err` with `LOGGER_INVALID_LEVEL` (nothing changed).
   */
  setLevel(levelOrSpec: string): Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>>;
  setLevel(
    module: string,
    level: string | null,
  ): Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>>;
  /** The current levels in `LOG_LEVEL` form (`info,cache=debug`). */
  levelSpec(): string;
  /** A child logger for `name` (`{ module: name }` bindings) at that module's level. */
  module(name: string): Logger;
  /**
   * A child logger. With a `module` binding it gets that module's level; with a `level`
   * option it keeps that level until the next `setLevel`. Bindings are redacted once, here.
   */
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger;
  /** Writes pending repeated-line summaries, then flushes the destination. */
  flush(cb?: (error?: Error) => void): void;
  /**
   * Writes pending summaries, flushes, and ends a destination the logger opened itself
   * (a file, a pretty transport; never a stream you passed, never standard output). Every
   * logger of the tree is silent afterwards.
   */
  close(): Promise<void>;
}

/** A pino logger with runtime level control, module levels and `close()`. */
export type Logger = Omit<PinoLogger, 'child' | 'flush'> & LoggerControls;

type Internal = PinoLogger & { [MODULE]?: string };

function levelLabel(label: string): Record<string, unknown> {
  return { level: label };
}

function checkOptions(options: LoggerOptions): void {
  const { name, destination, pretty, serializers, base, redact, dedupe, context } =
    check.object<LoggerOptions>('options', options);
  check.string('name', name, '');
  if (
    destination !== undefined &&
    typeof destination !== 'number' &&
    typeof destination !== 'string' &&
    typeof (destination as { write?: unknown } | null)?.write !== 'function'
  ) {
    check.fail('destination', 'a stream with write(), a file descriptor or a path', destination);
  }
  if (
    pretty !== undefined &&
    typeof pretty !== 'boolean' &&
    (typeof pretty !== 'object' || pretty === null || Array.isArray(pretty))
  ) {
    check.fail('pretty', 'true, false or pino-pretty options', pretty);
  }
  if (pretty && typeof destination === 'object') {
    // pino-pretty runs in a worker thread, which cannot write to a stream of this one.
    check.fail('destination', 'a file descriptor or a path when pretty is on', destination);
  }
  for (const [key, fn] of Object.entries(check.object<object>('serializers', serializers))) {
    if (typeof fn !== 'function') check.fail(`serializers.${key}`, 'a function', fn);
  }
  if (base !== null) check.object('base', base);
  if (typeof redact !== 'boolean') check.object('redact', redact);
  if (typeof dedupe !== 'boolean') check.object('dedupe', dedupe);
  check.boolean('context', context, true);
}

function openDestination(options: LoggerOptions): {
  stream: DestinationStream | undefined;
  owned: (DestinationStream & { end(): void }) | undefined;
} {
  const { destination, pretty } = options;
  if (pretty) {
    const prettyOptions: Record<string, unknown> = {
      ...(typeof pretty === 'object' ? pretty : {}),
      ...(destination === undefined ? {} : { destination }),
    };
    try {
      const stream = pino.transport({ target: 'pino-pretty', options: prettyOptions });
      return { stream, owned: stream };
    } catch (cause) {
      throw LoggerErrors.LOGGER_PRETTY_UNAVAILABLE({
        message:
          'pretty output needs the optional peer dependency pino-pretty: npm i -D pino-pretty',
        cause,
      });
    }
  }
  if (destination === undefined) return { stream: undefined, owned: undefined };
  if (typeof destination === 'number' || typeof destination === 'string') {
    const stream = pino.destination({ dest: destination, sync: true, mkdir: true });
    return { stream, owned: destination === 1 || destination === 2 ? undefined : stream };
  }
  return { stream: destination, owned: undefined };
}

/**
 * Creates a pino logger with production defaults: JSON lines, ISO time, the level as a label,
 * the request context's `requestId`/`traceId`/`spanId` on every line written inside a request,
 * secrets redacted at any depth and in any case, errors serialized with their code and cause
 * chain, repeated lines folded, and levels that can change at runtime, per module.
 *
 * Throws `LOGGER_INVALID_LEVEL` for a bad `level` spec, `LOGGER_INVALID_OPTIONS` for options of
 * the wrong type, `LOGGER_PRETTY_UNAVAILABLE` when `pretty` is asked without pino-pretty: these
 * are configuration bugs, found at startup.
 *
 * Gotchas: levels changed with pino's own `logger.level = ...` do not reach existing module
 * loggers; use `setLevel`. Pino's own `redact` paths are not used (ours cover every depth).
 *
 * @example
 * const logger = createLogger({ name: 'notes', level: 'info,cache=debug' });
 * const cacheLog = logger.module('cache');
 * runWithContext({ requestId: 'r1' }, () => logger.info({ user: { password: 'x' } }, 'signed in'));
 * // {"level":"info","time":"...","name":"notes","requestId":"r1","user":{"password":"[Redacted]"},"msg":"signed in"}
 * logger.setLevel('cache', 'warn'); // reaches cacheLog
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  checkOptions(options);
  const parsed = parseLevelSpec(options.level ?? process.env.LOG_LEVEL ?? 'info');
  if (!parsed.ok) throw parsed.error;
  const spec = parsed.value;

  const custom: Readonly<Record<string, (value: unknown) => unknown>> = options.serializers ?? {};
  const redactor =
    options.redact === false
      ? undefined
      : createLineRedactor(
          options.redact === true || options.redact === undefined ? {} : options.redact,
          new Set(Object.keys(custom)),
        );
  const deduper =
    options.dedupe === false
      ? undefined
      : new Deduper(options.dedupe === true || options.dedupe === undefined ? {} : options.dedupe);

  const pinoOptions: PinoOptions = {
    level: spec.level ?? 'info',
    timestamp: isoTime,
    formatters: { level: levelLabel },
    serializers: { err: serializeError, error: serializeError },
  };
  // A custom serializer sees the raw value (an Error stays an Error); its output is redacted.
  for (const [key, serializer] of Object.entries(custom)) {
    const serializers = pinoOptions.serializers as Record<string, (value: unknown) => unknown>;
    serializers[key] =
      redactor === undefined ? serializer : (value: unknown) => redactor.redact(serializer(value));
  }
  if (deduper !== undefined) pinoOptions.hooks = { logMethod: deduper.hook() };
  if (options.name !== undefined) pinoOptions.name = options.name;
  if (options.base !== undefined) {
    pinoOptions.base =
      options.base === null || redactor === undefined
        ? options.base
        : (redactor.redact(options.base) as Record<string, unknown>);
  }

  const { stream, owned } = openDestination(options);
  let fieldPass: ((object: Record<string, unknown>) => Record<string, unknown>) | undefined;
  if (options.context !== false) {
    const needsMetadata =
      (stream as { [key: symbol]: unknown } | undefined)?.[pino.symbols.needsMetadataGsym] === true;
    if (needsMetadata) {
      pinoOptions.mixin = contextMixin;
      pinoOptions.mixinMergeStrategy = mergeContext;
    } else {
      pinoOptions.timestamp = (): string => isoTime() + contextFragment();
      fieldPass = withoutContextKeys;
    }
  }
  if (redactor !== undefined) {
    const dedupeKeys = fieldPass;
    fieldPass =
      dedupeKeys === undefined
        ? (object) => redactor.redact(object) as Record<string, unknown>
        : (object) => redactor.redact(dedupeKeys(object)) as Record<string, unknown>;
  }
  if (fieldPass !== undefined) pinoOptions.formatters = { level: levelLabel, log: fieldPass };
  const root = (stream === undefined ? pino(pinoOptions) : pino(pinoOptions, stream)) as Internal;
  const registry = new LevelRegistry(root, spec);
  const pinoChild = root.child as unknown as (
    this: Internal,
    bindings: Bindings,
    options?: ChildLoggerOptions,
  ) => PinoLogger;
  const pinoFlush = root.flush;

  function child(this: Internal, bindings: Bindings, childOptions?: ChildLoggerOptions): Logger {
    if (typeof bindings !== 'object' || bindings === null || Array.isArray(bindings)) {
      check.fail('bindings', 'an object', bindings);
    }
    const module = typeof bindings.module === 'string' ? bindings.module : undefined;
    const safe = redactor === undefined ? bindings : (redactor.redact(bindings) as Bindings);
    const instance: Internal = pinoChild.call(this, safe, childOptions);
    if (module !== undefined) {
      instance[MODULE] = module;
      instance.level = childOptions?.level ?? registry.levelFor(module);
      registry.track(instance);
    } else if (childOptions?.level !== undefined) {
      registry.track(instance);
    }
    return instance as unknown as Logger;
  }

  function setLevel(
    ...args: [string] | [string, string | null]
  ): Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>> {
    if (args.length === 1) {
      const next = parseLevelSpec(args[0]);
      if (!next.ok) return next;
      registry.apply(next.value);
      return ok(registry.spec());
    }
    const [module, level] = args;
    if (typeof module !== 'string' || /[,=]/.test(module)) {
      return err(LoggerErrors.LOGGER_INVALID_LEVEL('setLevel(module, level) needs a module name'));
    }
    const next = parseLevelSpec(`${module}=${level ?? 'info'}`);
    if (!next.ok) return next;
    registry.setModule(
      module.trim(),
      level === null ? undefined : next.value.modules.get(module.trim()),
    );
    return ok(registry.spec());
  }

  function flush(this: Internal, cb?: (error?: Error) => void): void {
    deduper?.flush();
    pinoFlush.call(this, cb);
  }

  let closed: Promise<void> | undefined;
  function close(this: Internal): Promise<void> {
    closed ??= new Promise<void>((resolve) => {
      deduper?.flush();
      registry.silence();
      pinoFlush.call(root, () => {
        if (owned === undefined) return resolve();
        const emitter = owned as DestinationStream & {
          once?: (event: string, listener: () => void) => void;
        };
        let done = false;
        const finish = (): void => {
          if (!done) {
            done = true;
            resolve();
          }
        };
        emitter.once?.('close', finish);
        emitter.once?.('error', finish);
        owned.end();
        if (emitter.once === undefined) finish();
      });
    });
    return closed;
  }

  Object.assign(root, {
    child,
    setLevel,
    levelSpec: (): string => formatLevelSpec(registry.spec()),
    module(this: Internal, name: string): Logger {
      if (name === undefined) check.fail('module', 'a non-empty string', name);
      return child.call(this, { module: check.string('module', name, '', { nonEmpty: true }) });
    },
    flush,
    close,
  });
  if (spec.modules.size > 0) registry.apply(spec);
  return root as unknown as Logger;
}
