import { inspect } from 'node:util';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import type { z } from 'zod';
import { ConfigErrors } from './errors.js';
import {
  type ConfigFile,
  dotenvLayer,
  envLayer,
  fileLayer,
  type Layer,
  type ReadLayer,
  treeLayer,
} from './internal/layers.js';
import { type GuardCheck, resolveConfig, type Snapshot } from './internal/resolve.js';
import { type SchemaShape, walkSchema } from './internal/schema-walk.js';
import { deepEqual, display, isPlainObject } from './internal/values.js';
import { isSecret, REDACTED_TEXT } from './secret.js';
import type {
  ConfigChange,
  ConfigEntry,
  ConfigPath,
  ConfigProblem,
  DeepPartial,
  DeepReadonly,
  PathValue,
  RuntimeSink,
  RuntimeSource,
} from './types.js';

export type { ConfigFile } from './internal/layers.js';

/** The schema of a configuration: a `z.object`. */
export type ConfigSchema = z.ZodObject;

/**
 * A check run after validation, in the profiles it names: `check` returns what was expected
 * (a string, which makes it a problem) when the value is refused, or undefined when it is fine.
 */
export type ConfigGuard<TValue> = {
  [TPath in ConfigPath<TValue>]: {
    readonly key: TPath;
    /** Default: the production profiles. */
    readonly profiles?: readonly string[];
    readonly check: (
      value: DeepReadonly<PathValue<TValue, TPath>>,
      config: DeepReadonly<TValue>,
    ) => string | undefined | false | null;
  };
}[ConfigPath<TValue>];

/** How {@link defineConfig} reads the configuration. Every field is optional. */
export interface ConfigOptions<TSchema extends ConfigSchema> {
  /**
   * Configuration files (JSON, YAML), read in order (a later file wins). `{profile}` in a path
   * is replaced by the profile. A missing file is a problem unless `optional`.
   */
  readonly files?: readonly (string | ConfigFile)[];
  /** A `.env` file, above the files and below the environment. Missing is fine. Default none. */
  readonly dotenv?: string | { readonly path: string; readonly optional?: boolean } | false;
  /** The environment. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Prepended to every derived variable name: `'APP'` reads `db.poolSize` from `APP_DB_POOL_SIZE`. */
  readonly envPrefix?: string;
  /** The profile. Default: the `profileEnv` variable, else `'development'`. */
  readonly profile?: string;
  /** The variable naming the profile. Default `'NODE_ENV'`. */
  readonly profileEnv?: string;
  /** Defaults per profile, above the schema's defaults and below every source. */
  readonly profiles?: Readonly<Record<string, DeepPartial<z.input<TSchema>>>>;
  /**
   * Profiles accepted; another one is a problem (a typo such as `prodution` is not silently
   * "not production"). Default `development`, `test`, `production` and the keys of `profiles`.
   */
  readonly knownProfiles?: readonly string[];
  /** Profiles that count as production for guards and secrets. Default `['production']`. */
  readonly productionProfiles?: readonly string[];
  /** Guards, such as "no debug logging in production". */
  readonly guards?: readonly ConfigGuard<z.output<TSchema>>[];
  /** Accept secrets that come from a default in production. Default false. */
  readonly allowDefaultSecrets?: boolean;
  /** Explicit values, above everything read at startup. */
  readonly overrides?: DeepPartial<z.input<TSchema>>;
  /** Unknown keys in files, overrides and updates are problems (else warnings). Default false. */
  readonly strict?: boolean;
  /** Largest configuration, `.env` or `_FILE` file read, in bytes. Default 1 MiB. */
  readonly maxFileBytes?: number;
  /** Base of relative paths. Default `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Told about rejected updates, failed sources and failed listeners (besides `onError`
   * listeners). With neither, they go to `process.emitWarning`.
   */
  readonly onError?: (error: ProdError) => void;
}

/** A listener of one key (or object of keys): the new value, the old one, and what changed. */
export type ChangeListener<TValue> = (
  value: TValue,
  previous: TValue,
  changes: readonly ConfigChange[],
) => void;

/**
 * A typed, frozen configuration. `value` is the current snapshot: a runtime update replaces
 * it whole (a reference you hold stays consistent), never edits it.
 */
export interface Config<TSchema extends ConfigSchema> {
  /** The current configuration, deeply frozen. */
  readonly value: DeepReadonly<z.output<TSchema>>;
  /** The profile (`development`, `test`, `production`...). */
  readonly profile: string;
  /** Whether the profile is one of the production profiles. */
  readonly production: boolean;
  /** Problems that did not stop the start (unknown keys when not `strict`). */
  readonly warnings: readonly ConfigProblem[];
  /** Paths of the secret keys (feed them to a logger's redaction list). */
  readonly secretKeys: readonly string[];
  /** Paths of the keys runtime updates may change. */
  readonly reloadableKeys: readonly string[];
  /** The value at a dotted path (`'db.poolSize'`), from the current snapshot. */
  get<TPath extends ConfigPath<z.output<TSchema>>>(
    path: TPath,
  ): DeepReadonly<PathValue<z.output<TSchema>, TPath>>;
  /** Where the value of a key came from (`env:APP_PORT`, `file:config.yaml`, `default`...). */
  sourceOf(path: ConfigPath<z.output<TSchema>>): string | undefined;
  /** Every key with its value, safe display, source and flags. */
  entries(): readonly ConfigEntry[];
  /** The effective configuration as a table, one key a line, with sources; secrets redacted. */
  describe(): string;
  /** Calls `listener` after an update changed `path` or a key under it; returns an unsubscribe. */
  onChange<TPath extends ConfigPath<z.output<TSchema>>>(
    path: TPath,
    listener: ChangeListener<DeepReadonly<PathValue<z.output<TSchema>, TPath>>>,
  ): () => void;
  /** Calls `listener` after every update that changed something. */
  onChange(listener: (changes: readonly ConfigChange[]) => void): () => void;
  /** Told about rejected updates, failed sources and failed listeners; returns an unsubscribe. */
  onError(listener: (error: ProdError) => void): () => void;
  /**
   * Applies values on top of everything else (an admin endpoint, a test).
   *
   * @returns `Ok(changes)`, or `Err` `CONFIG_INVALID` / `CONFIG_RESTART_REQUIRED`, the
   * configuration unchanged.
   */
  update(values: DeepPartial<z.input<TSchema>>): Result<readonly ConfigChange[], ProdError>;
  /**
   * Reads the files, the `.env` file and the environment again (on SIGHUP, say).
   *
   * @returns `Ok(changes)`, or `Err` `CONFIG_INVALID` / `CONFIG_RESTART_REQUIRED`, the
   * configuration unchanged.
   */
  reload(): Result<readonly ConfigChange[], ProdError>;
  /**
   * Starts a runtime source; its values are validated and applied as it delivers them.
   *
   * @returns `Ok` once started, or `Err` `CONFIG_SOURCE_FAILED` when it could not start.
   */
  watch(source: RuntimeSource): Promise<Result<void, ProdError>>;
  /** Stops every runtime source. */
  close(): Promise<void>;
  /** The configuration with secrets as `[REDACTED]`. */
  toJSON(): unknown;
  /** {@link Config.describe}. */
  toString(): string;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);
const DEFAULT_PROFILES = ['development', 'test', 'production'];

function invalid(problems: readonly ConfigProblem[], what: string): ProdError {
  const lines = problems.map((p) => `  - ${p.message}`).join('\n');
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return ConfigErrors.CONFIG_INVALID({
    message: `${what} (${count}):\n${lines}`,
    errors: problems.map((p) => ({ path: p.key, message: p.message })),
    details: { problems },
  }) as ProdError;
}

function redact(value: unknown): unknown {
  if (isSecret(value)) return REDACTED_TEXT;
  if (Array.isArray(value)) return value.map(redact);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = redact(value[key]);
    return out;
  }
  return value;
}

interface Resolved {
  readonly shape: SchemaShape;
  readonly profile: string;
  readonly production: boolean;
  readonly guards: readonly GuardCheck[];
}

class ConfigStore<TSchema extends ConfigSchema> {
  readonly profile: string;
  readonly production: boolean;
  readonly secretKeys: readonly string[];
  readonly reloadableKeys: readonly string[];
  warnings: readonly ConfigProblem[] = [];
  readonly #schema: TSchema;
  readonly #options: ConfigOptions<TSchema>;
  readonly #setup: Resolved;
  #startup: readonly Layer[] = [];
  readonly #runtime = new Map<RuntimeSource | 'update', Layer>();
  #snapshot!: Snapshot;
  readonly #pathListeners: Array<{ path: string; listener: ChangeListener<unknown> }> = [];
  readonly #anyListeners: Array<(changes: readonly ConfigChange[]) => void> = [];
  readonly #errorListeners: Array<(error: ProdError) => void> = [];
  readonly #sources = new Set<RuntimeSource>();

  constructor(schema: TSchema, options: ConfigOptions<TSchema>, setup: Resolved) {
    this.#schema = schema;
    this.#options = options;
    this.#setup = setup;
    this.profile = setup.profile;
    this.production = setup.production;
    this.secretKeys = Object.freeze(setup.shape.leaves.filter((l) => l.secret).map((l) => l.path));
    this.reloadableKeys = Object.freeze(
      setup.shape.leaves.filter((l) => l.reloadable).map((l) => l.path),
    );
  }

  /** Reads every startup layer; problems of all of them are returned together. */
  readStartup(extra: readonly ConfigProblem[]): Result<readonly Layer[], ProdError> {
    const { shape, profile } = this.#setup;
    const options = this.#options;
    const cwd = options.cwd ?? process.cwd();
    const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    const strict = options.strict ?? false;
    const reads: ReadLayer[] = [];
    const profileDefaults = options.profiles?.[profile];
    if (profileDefaults !== undefined) {
      reads.push(treeLayer(profileDefaults, `profile:${profile}`, shape, strict));
    }
    for (const file of options.files ?? []) {
      reads.push(
        fileLayer(typeof file === 'string' ? { path: file } : file, profile, shape, {
          cwd,
          maxFileBytes,
          strict,
        }),
      );
    }
    const dotenv = options.dotenv;
    if (dotenv !== undefined && dotenv !== false) {
      const path = typeof dotenv === 'string' ? dotenv : dotenv.path;
      const optional = typeof dotenv === 'string' ? true : dotenv.optional !== false;
      reads.push(dotenvLayer(path, optional, shape, { cwd, maxFileBytes }));
    }
    reads.push(
      envLayer(options.env ?? process.env, shape, {
        label: (name) => `env:${name}`,
        cwd,
        maxFileBytes,
      }),
    );
    if (options.overrides !== undefined) {
      reads.push(treeLayer(options.overrides, 'override', shape, strict));
    }
    const problems = [...extra, ...reads.flatMap((r) => r.problems)];
    this.warnings = Object.freeze(reads.flatMap((r) => r.warnings));
    if (problems.length > 0) {
      // Validate what could be read too, so one error lists every problem.
      const rest = this.#resolve(reads.map((r) => r.layer));
      const all = rest.ok ? problems : [...problems, ...rest.problems];
      return err(invalid(dedupe(all), 'invalid configuration'));
    }
    return ok(reads.map((r) => r.layer));
  }

  #resolve(layers: readonly Layer[]) {
    return resolveConfig({
      schema: this.#schema,
      shape: this.#setup.shape,
      layers,
      profile: this.profile,
      production: this.production,
      allowDefaultSecrets: this.#options.allowDefaultSecrets ?? false,
      guards: this.#setup.guards,
    });
  }

  #layers(
    startup: readonly Layer[],
    runtime: ReadonlyMap<RuntimeSource | 'update', Layer>,
  ): Layer[] {
    const ordered = [...startup];
    for (const [key, layer] of runtime) if (key !== 'update') ordered.push(layer);
    const update = runtime.get('update');
    if (update !== undefined) ordered.push(update);
    return ordered;
  }

  start(startup: readonly Layer[]): Result<void, ProdError> {
    const resolved = this.#resolve(startup);
    if (!resolved.ok) return err(invalid(resolved.problems, 'invalid configuration'));
    this.#startup = startup;
    this.#snapshot = resolved.snapshot;
    return ok();
  }

  get value(): DeepReadonly<z.output<TSchema>> {
    return this.#snapshot.value as DeepReadonly<z.output<TSchema>>;
  }

  get(path: string): unknown {
    return this.#snapshot.flat.get(path);
  }

  sourceOf(path: string): string | undefined {
    const direct = this.#snapshot.sources.get(path);
    if (direct !== undefined) return direct;
    if (!this.#setup.shape.branches.has(path)) return undefined;
    const under = new Set<string>();
    for (const [key, source] of this.#snapshot.sources)
      if (key.startsWith(`${path}.`)) under.add(source);
    return [...under].join(', ');
  }

  entries(): readonly ConfigEntry[] {
    return this.#setup.shape.leaves.map((leaf) => {
      const value = this.#snapshot.flat.get(leaf.path);
      return {
        key: leaf.path,
        value,
        display: display(value, leaf.secret),
        source: this.#snapshot.sources.get(leaf.path) ?? 'unset',
        env: leaf.env,
        secret: leaf.secret,
        reloadable: leaf.reloadable,
      };
    });
  }

  describe(): string {
    const rows = this.entries().map((entry) => [
      entry.key,
      entry.display,
      entry.source,
      [entry.secret ? 'secret' : '', entry.reloadable ? 'reloadable' : '']
        .filter(Boolean)
        .join(' '),
    ]);
    const header = ['key', 'value', 'source', ''];
    const widths = header.map((_, i) =>
      Math.max(header[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0)),
    );
    const line = (cells: readonly string[]): string =>
      cells
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    return [`configuration (profile: ${this.profile})`, line(header), ...rows.map(line)].join('\n');
  }

  onChange(a: unknown, b?: unknown): () => void {
    if (typeof a === 'function') {
      const listener = a as (changes: readonly ConfigChange[]) => void;
      this.#anyListeners.push(listener);
      return () => remove(this.#anyListeners, listener);
    }
    const path = check.string('path', a, '', { nonEmpty: true });
    if (!this.#setup.shape.leafByPath.has(path) && !this.#setup.shape.branches.has(path)) {
      check.fail('path', 'a key of the schema', path);
    }
    const listener = check.fn<ChangeListener<unknown>>('listener', b);
    if (listener === undefined) check.fail('listener', 'a function', b);
    const entry = { path, listener: listener as ChangeListener<unknown> };
    this.#pathListeners.push(entry);
    return () => remove(this.#pathListeners, entry);
  }

  onError(listener: (error: ProdError) => void): () => void {
    if (typeof listener !== 'function') check.fail('listener', 'a function', listener);
    this.#errorListeners.push(listener);
    return () => remove(this.#errorListeners, listener);
  }

  report(error: ProdError): void {
    let told = false;
    for (const listener of [...this.#errorListeners]) {
      told = true;
      try {
        listener(error);
      } catch {
        // An error listener that throws must not hide the error from the others.
      }
    }
    if (this.#options.onError !== undefined) {
      told = true;
      try {
        this.#options.onError(error);
      } catch {
        // Same as above.
      }
    }
    if (!told) process.emitWarning(error.message, { type: 'ProdConfigWarning', code: error.code });
  }

  #apply(
    startup: readonly Layer[],
    runtime: Map<RuntimeSource | 'update', Layer>,
    what: string,
  ): Result<readonly ConfigChange[], ProdError> {
    const resolved = this.#resolve(this.#layers(startup, runtime));
    if (!resolved.ok)
      return this.#reject(invalid(resolved.problems, `${what} rejected, configuration kept`));
    const previous = this.#snapshot;
    const next = resolved.snapshot;
    const changes: ConfigChange[] = [];
    const locked: string[] = [];
    for (const leaf of this.#setup.shape.leaves) {
      const before = previous.flat.get(leaf.path);
      const after = next.flat.get(leaf.path);
      if (deepEqual(before, after)) continue;
      changes.push({
        key: leaf.path,
        previous: before,
        value: after,
        source: next.sources.get(leaf.path) ?? 'unset',
      });
      if (!leaf.reloadable) locked.push(leaf.path);
    }
    if (locked.length > 0) {
      return this.#reject(
        ConfigErrors.CONFIG_RESTART_REQUIRED({
          message: `${what} rejected, configuration kept: ${locked.join(', ')} ${locked.length === 1 ? 'is' : 'are'} not reloadable (restart to change)`,
          details: { keys: locked },
        }) as ProdError,
      );
    }
    this.#startup = startup;
    if (runtime !== this.#runtime) {
      this.#runtime.clear();
      for (const [key, layer] of runtime) this.#runtime.set(key, layer);
    }
    if (changes.length === 0) return ok(changes);
    // One assignment: a reader sees the old snapshot or the new one, never a mix.
    this.#snapshot = next;
    this.#notify(previous, changes);
    return ok(changes);
  }

  #reject(error: ProdError): Result<readonly ConfigChange[], ProdError> {
    this.report(error);
    return err(error);
  }

  #notify(previous: Snapshot, changes: readonly ConfigChange[]): void {
    const call = (fn: () => void): void => {
      try {
        fn();
      } catch (error) {
        this.report(
          ConfigErrors.CONFIG_LISTENER_FAILED({
            message: `an onChange listener threw: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          }) as ProdError,
        );
      }
    };
    for (const { path, listener } of [...this.#pathListeners]) {
      const relevant = changes.filter((c) => c.key === path || c.key.startsWith(`${path}.`));
      if (relevant.length === 0) continue;
      call(() => listener(this.#snapshot.flat.get(path), previous.flat.get(path), relevant));
    }
    for (const listener of [...this.#anyListeners]) call(() => listener(changes));
  }

  #runtimeLayer(values: unknown, source: string): Result<Layer, ProdError> {
    const read = treeLayer(values, source, this.#setup.shape, this.#options.strict ?? false);
    if (read.problems.length > 0)
      return err(invalid(read.problems, `update from ${source} rejected, configuration kept`));
    return ok(read.layer);
  }

  applyRuntime(
    key: RuntimeSource | 'update',
    values: unknown,
    source: string,
  ): Result<readonly ConfigChange[], ProdError> {
    const layer = this.#runtimeLayer(values, source);
    if (!layer.ok) return this.#reject(layer.error);
    const runtime = new Map(this.#runtime);
    runtime.set(key, layer.value);
    return this.#apply(this.#startup, runtime, `update from ${source}`);
  }

  reload(): Result<readonly ConfigChange[], ProdError> {
    const startup = this.readStartup([]);
    if (!startup.ok) {
      const error = ConfigErrors.CONFIG_INVALID({
        message: startup.error.message.replace(
          /^invalid configuration/,
          'reload rejected, configuration kept',
        ),
        errors: startup.error.errors ?? [],
        details: startup.error.details ?? {},
      }) as ProdError;
      return this.#reject(error);
    }
    return this.#apply(startup.value, this.#runtime, 'reload');
  }

  async watch(source: RuntimeSource): Promise<Result<void, ProdError>> {
    if (typeof source !== 'object' || source === null)
      check.fail('source', 'a RuntimeSource', source);
    check.string('source.name', source.name, '', { nonEmpty: true });
    if (typeof source.start !== 'function' || typeof source.stop !== 'function') {
      check.fail('source', 'an object with start() and stop()', source);
    }
    if (this.#sources.has(source))
      check.fail('source', 'a source not watched already', source.name);
    this.#sources.add(source);
    const sink: RuntimeSink = {
      update: (values) => this.applyRuntime(source, values, source.name),
      fail: (error) => this.report(sourceFailed(source.name, error)),
    };
    try {
      await source.start(sink);
      return ok();
    } catch (error) {
      this.#sources.delete(source);
      this.#runtime.delete(source);
      const failure = sourceFailed(source.name, error);
      this.report(failure);
      return err(failure);
    }
  }

  async close(): Promise<void> {
    const sources = [...this.#sources];
    this.#sources.clear();
    await Promise.all(
      sources.map(async (source) => {
        try {
          await source.stop();
        } catch {
          // Closing goes on for the other sources.
        }
      }),
    );
  }

  toJSON(): unknown {
    return redact(this.#snapshot.value);
  }
}

function sourceFailed(name: string, error: unknown): ProdError {
  const message = error instanceof Error ? error.message : String(error);
  return ConfigErrors.CONFIG_SOURCE_FAILED({
    message: `configuration source ${name} failed, configuration kept: ${message}`,
    cause: error,
    details: { source: name },
  }) as ProdError;
}

function remove<TItem>(list: TItem[], item: TItem): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.key}|${p.source}|${p.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function checkOptions<TSchema extends ConfigSchema>(options: ConfigOptions<TSchema>): void {
  check.object('options', options);
  if (options.files !== undefined && !Array.isArray(options.files))
    check.fail('files', 'an array of paths or { path }', options.files);
  for (const [i, file] of (options.files ?? []).entries()) {
    const path = typeof file === 'string' ? file : (file as ConfigFile | undefined)?.path;
    if (typeof path !== 'string' || path === '')
      check.fail(`files[${i}]`, 'a path or { path, format?, optional? }', file);
    if (typeof file === 'object' && file.format !== undefined)
      check.oneOf(`files[${i}].format`, file.format, ['json', 'yaml'], 'json');
  }
  if (options.dotenv !== undefined && options.dotenv !== false) {
    const path = typeof options.dotenv === 'string' ? options.dotenv : options.dotenv?.path;
    if (typeof path !== 'string' || path === '')
      check.fail('dotenv', 'a path, { path, optional? } or false', options.dotenv);
  }
  if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null))
    check.fail('env', 'an object of strings', options.env);
  check.string('envPrefix', options.envPrefix, '');
  if (
    options.envPrefix !== undefined &&
    options.envPrefix !== '' &&
    !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.envPrefix)
  ) {
    check.fail('envPrefix', 'letters, digits and underscores', options.envPrefix);
  }
  check.string('profile', options.profile, '');
  check.string('profileEnv', options.profileEnv, 'NODE_ENV', { nonEmpty: true });
  if (options.profiles !== undefined) check.object('profiles', options.profiles);
  for (const name of ['knownProfiles', 'productionProfiles', 'guards'] as const) {
    const list = options[name];
    if (list !== undefined && !Array.isArray(list)) check.fail(name, 'an array', list);
  }
  for (const [i, guard] of (options.guards ?? []).entries()) {
    if (
      typeof guard !== 'object' ||
      guard === null ||
      typeof guard.key !== 'string' ||
      typeof guard.check !== 'function'
    ) {
      check.fail(`guards[${i}]`, '{ key, check, profiles? }', guard);
    }
  }
  check.boolean('allowDefaultSecrets', options.allowDefaultSecrets, false);
  check.boolean('strict', options.strict, false);
  check.integer('maxFileBytes', options.maxFileBytes, 1024 * 1024, { min: 1 });
  check.string('cwd', options.cwd, '');
  check.fn('onError', options.onError);
}

function setUp<TSchema extends ConfigSchema>(
  schema: TSchema,
  options: ConfigOptions<TSchema>,
): { store: ConfigStore<TSchema>; problems: ConfigProblem[] } {
  checkOptions(options);
  if (typeof schema !== 'object' || schema === null || !('_zod' in schema)) {
    check.fail('schema', 'a zod schema (z.object)', schema);
  }
  const rawPrefix = options.envPrefix ?? '';
  const prefix = rawPrefix === '' || rawPrefix.endsWith('_') ? rawPrefix : `${rawPrefix}_`;
  const shape = walkSchema(schema, prefix);
  for (const guard of options.guards ?? []) {
    if (!shape.leafByPath.has(guard.key) && !shape.branches.has(guard.key)) {
      check.fail('guards.key', 'a key of the schema', guard.key);
    }
  }
  const env = options.env ?? process.env;
  const profileEnv = options.profileEnv ?? 'NODE_ENV';
  const fromEnv = Object.hasOwn(env, profileEnv) ? env[profileEnv] : undefined;
  const profile =
    options.profile || (fromEnv === undefined || fromEnv === '' ? 'development' : fromEnv);
  const known = new Set([
    ...(options.knownProfiles ?? DEFAULT_PROFILES),
    ...Object.keys(options.profiles ?? {}),
  ]);
  const productionProfiles = options.productionProfiles ?? ['production'];
  const problems: ConfigProblem[] = [];
  if (!known.has(profile)) {
    problems.push({
      key: '',
      source: options.profile ? 'option profile' : `env:${profileEnv}`,
      expected: `a profile among ${[...known].map((p) => JSON.stringify(p)).join(', ')}`,
      found: JSON.stringify(profile.slice(0, 40)),
      message: `profile: expected one of ${[...known].join(', ')}, found ${JSON.stringify(profile.slice(0, 40))} (from ${options.profile ? 'option profile' : `env:${profileEnv}`})`,
    });
  }
  const guards: GuardCheck[] = (options.guards ?? []).map((guard) => ({
    key: guard.key,
    profiles: guard.profiles ?? productionProfiles,
    check: guard.check as GuardCheck['check'],
  }));
  const store = new ConfigStore(schema, options, {
    shape,
    profile,
    production: productionProfiles.includes(profile),
    guards,
  });
  return { store, problems };
}

function facade<TSchema extends ConfigSchema>(store: ConfigStore<TSchema>): Config<TSchema> {
  const config = {
    get value() {
      return store.value;
    },
    profile: store.profile,
    production: store.production,
    get warnings() {
      return store.warnings;
    },
    secretKeys: store.secretKeys,
    reloadableKeys: store.reloadableKeys,
    get: (path: string) => store.get(path),
    sourceOf: (path: string) => store.sourceOf(path),
    entries: () => store.entries(),
    describe: () => store.describe(),
    onChange: (a: unknown, b?: unknown) => store.onChange(a, b),
    onError: (listener: (error: ProdError) => void) => store.onError(listener),
    update: (values: unknown) => store.applyRuntime('update', values, 'update'),
    reload: () => store.reload(),
    watch: (source: RuntimeSource) => store.watch(source),
    close: () => store.close(),
    toJSON: () => store.toJSON(),
    toString: () => store.describe(),
    [inspect.custom]: () => `Config(${store.profile}) ${inspect(store.toJSON(), { depth: 8 })}`,
  };
  return Object.freeze(config) as unknown as Config<TSchema>;
}

/**
 * Reads and validates a configuration, like {@link defineConfig}, without throwing.
 *
 * @returns `Ok(config)`, or `Err` `CONFIG_INVALID` whose `details.problems` lists every problem
 * (key, source, expected, found; secrets never shown).
 * @throws `CONFIG_INVALID_OPTIONS` / `CONFIG_INVALID_SCHEMA` for options or a schema that cannot
 * work (a bug, not a bad environment).
 * @example
 * import { z } from 'zod';
 * const loaded = loadConfig(z.object({ port: z.number().default(3000) }), { env: { PORT: '8080' } });
 * if (loaded.ok) console.log(loaded.value.value.port); // 8080
 */
export function loadConfig<TSchema extends ConfigSchema>(
  schema: TSchema,
  options: ConfigOptions<TSchema> = {},
): Result<Config<TSchema>, ProdError<'CONFIG_INVALID'>> {
  const { store, problems } = setUp(schema, options);
  const startup = store.readStartup(problems);
  if (!startup.ok) return err(startup.error as ProdError<'CONFIG_INVALID'>);
  const started = store.start(startup.value);
  if (!started.ok) return err(started.error as ProdError<'CONFIG_INVALID'>);
  return ok(facade(store));
}

/**
 * Defines the configuration of a service: reads schema defaults < profile defaults < files
 * (JSON, YAML) < `.env` < environment variables (and `<NAME>_FILE`) < overrides, validates
 * everything with the zod schema, and returns a typed, frozen configuration. Fails fast.
 *
 * Environment names come from the paths: `db.poolSize` is `DB_POOL_SIZE` (with `envPrefix:
 * 'APP'`, `APP_DB_POOL_SIZE`); strings from the environment become numbers, booleans
 * (`"false"` is false), lists (`a,b` or JSON) and objects (JSON) as the schema expects.
 *
 * @throws `CONFIG_INVALID` listing every problem at once (key, source, expected, found;
 * secrets never shown); `CONFIG_INVALID_OPTIONS` / `CONFIG_INVALID_SCHEMA` for bad options.
 * @example
 * import { z } from 'zod';
 * const config = defineConfig(
 *   z.object({
 *     port: z.number().int().default(3000),
 *     db: z.object({ url: secret(z.string()), poolSize: z.number().default(10) }),
 *     log: z.object({ level: reloadable(z.enum(['debug', 'info', 'warn']).default('info')) }),
 *   }),
 *   { envPrefix: 'APP', files: [{ path: 'config/{profile}.yaml', optional: true }] },
 * );
 * config.value.db.poolSize; // number
 * config.get('log.level'); // 'debug' | 'info' | 'warn'
 */
export function defineConfig<TSchema extends ConfigSchema>(
  schema: TSchema,
  options: ConfigOptions<TSchema> = {},
): Config<TSchema> {
  const loaded = loadConfig(schema, options);
  if (!loaded.ok) throw loaded.error;
  return loaded.value;
}
