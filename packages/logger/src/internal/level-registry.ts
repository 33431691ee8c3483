import type { Logger as PinoLogger } from 'pino';
import type { LevelSpec, LogLevel } from '../levels.js';

/** Marks a logger with the module it belongs to; children inherit it through the prototype. */
export const MODULE: unique symbol = Symbol('@prod/logger/module');

type Tracked = PinoLogger & { [MODULE]?: string };

/**
 * Knows every logger that holds its own level (module loggers, children given a level) and
 * re-applies levels to them when the spec changes.
 *
 * Pino children created without a level read their level methods through the prototype
 * chain, so they follow their parent for free; only loggers with their own level need to be
 * found again, and they are held weakly so per-request children are never kept alive.
 */
export class LevelRegistry {
  private level: LogLevel;
  private readonly modules = new Map<string, LogLevel>();
  private readonly tracked = new Set<WeakRef<Tracked>>();
  private pruneAt = 256;

  constructor(
    private readonly root: PinoLogger,
    spec: LevelSpec,
  ) {
    this.level = spec.level ?? 'info';
    for (const [name, level] of spec.modules) this.modules.set(name, level);
  }

  /** The level a logger of `module` gets: its own, else its closest dotted parent's, else the default. */
  levelFor(module: string | undefined): LogLevel {
    if (module === undefined || this.modules.size === 0) return this.level;
    let name = module;
    for (;;) {
      const found = this.modules.get(name);
      if (found !== undefined) return found;
      const dot = name.lastIndexOf('.');
      if (dot === -1) return this.level;
      name = name.slice(0, dot);
    }
  }

  track(logger: Tracked): void {
    this.tracked.add(new WeakRef(logger));
    if (this.tracked.size >= this.pruneAt) {
      this.prune();
      this.pruneAt = Math.max(256, this.tracked.size * 2);
    }
  }

  /** Merges a spec: its default (when given) and each of its modules. */
  apply(spec: LevelSpec): void {
    if (spec.level !== undefined) this.level = spec.level;
    for (const [name, level] of spec.modules) this.modules.set(name, level);
    this.reapply();
  }

  /** Sets or (with undefined) clears one module's level. */
  setModule(module: string, level: LogLevel | undefined): void {
    if (level === undefined) this.modules.delete(module);
    else this.modules.set(module, level);
    this.reapply();
  }

  /** Turns every logger of the tree off (after close). */
  silence(): void {
    this.modules.clear();
    this.level = 'silent';
    this.reapply();
  }

  spec(): LevelSpec {
    return { level: this.level, modules: new Map(this.modules) };
  }

  private reapply(): void {
    this.root.level = this.level;
    for (const ref of this.tracked) {
      const logger = ref.deref();
      if (logger === undefined) this.tracked.delete(ref);
      else logger.level = this.levelFor(logger[MODULE]);
    }
  }

  private prune(): void {
    for (const ref of this.tracked) if (ref.deref() === undefined) this.tracked.delete(ref);
  }
}
