import { MAX_TIMER_MS } from '@prod/core';
import type { Logger as PinoLogger } from 'pino';
import { MODULE } from './internal/level-registry.js';
import { check } from './internal/options.js';

/** How repeated lines are folded. */
export interface DedupeOptions {
  /**
   * Lines with the same level, module and message let through per window, an integer >= 1.
   * Default 100.
   */
  readonly max?: number;
  /** The window length in milliseconds, an integer from 1 to 2 147 483 647. Default 1000. */
  readonly windowMs?: number;
  /**
   * Distinct messages tracked per window, an integer >= 1; messages beyond it are never
   * folded (bounded memory when messages carry ids). Default 1000.
   */
  readonly maxKeys?: number;
}

/** Marks a logger whose lines are never folded (the request log: one line per request, always). */
export const SKIP_DEDUPE: unique symbol = Symbol('@prod/logger/skip-dedupe');

type LogMethod = (this: PinoLogger, ...args: unknown[]) => void;
type Hooked = PinoLogger & { [SKIP_DEDUPE]?: true; [MODULE]?: string };

interface Entry {
  count: number;
  suppressed: number;
  readonly msg: string;
  logger: PinoLogger;
  method: LogMethod;
}

let summarizing = false;

/** True while summary lines are written: they belong to no request. */
export function isSummarizing(): boolean {
  return summarizing;
}

function messageOf(args: readonly unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (typeof first !== 'object' || first === null) return undefined;
  const second = args[1];
  if (typeof second === 'string') return second;
  if (first instanceof Error) return first.message;
  return undefined;
}

/**
 * Folds repeated lines: per tumbling window, the first `max` lines with the same level,
 * module and message (the format string, before interpolation) are written; the rest are
 * counted, and when the window ends one line `{ repeated: count, msg }` is written at the
 * same level, with the bindings of the logger that first went over.
 */
export class Deduper {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  // Indexed by level number: an array read is cheaper than a Map lookup on every line.
  private readonly entries: (Map<string, Entry> | undefined)[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: DedupeOptions) {
    this.max = check.integer('dedupe.max', options.max, 100, { min: 1 });
    // A window is a timer: bounded by what setTimeout can wait.
    this.windowMs = check.integer('dedupe.windowMs', options.windowMs, 1000, {
      min: 1,
      max: MAX_TIMER_MS,
    });
    this.maxKeys = check.integer('dedupe.maxKeys', options.maxKeys, 1000, { min: 1 });
  }

  /** The pino `hooks.logMethod` to install. */
  hook(): (this: PinoLogger, args: unknown[], method: LogMethod, level: number) => void {
    const deduper = this;
    return function logMethod(this: Hooked, args, method, level) {
      if (this[SKIP_DEDUPE] !== true) {
        const msg = messageOf(args);
        if (msg !== undefined && !deduper.admit(this, method, level, msg)) return;
      }
      method.apply(this, args);
    };
  }

  /** Writes the pending summaries now and starts a new window. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.size === 0) return;
    const pending: Entry[] = [];
    for (const byKey of this.entries) {
      if (byKey === undefined) continue;
      for (const entry of byKey.values()) if (entry.suppressed > 0) pending.push(entry);
      byKey.clear();
    }
    this.size = 0;
    summarizing = true;
    try {
      for (const entry of pending) {
        entry.method.call(entry.logger, { repeated: entry.suppressed }, entry.msg);
      }
    } finally {
      summarizing = false;
    }
  }

  private admit(logger: Hooked, method: LogMethod, level: number, msg: string): boolean {
    let byKey = this.entries[level];
    if (byKey === undefined) {
      byKey = new Map();
      this.entries[level] = byKey;
    }
    const module = logger[MODULE];
    const key = module === undefined ? msg : `${module}\u0000${msg}`;
    const entry = byKey.get(key);
    if (entry === undefined) {
      if (this.size >= this.maxKeys) return true;
      byKey.set(key, { count: 1, suppressed: 0, msg, logger, method });
      this.size++;
      if (this.timer === undefined) {
        this.timer = setTimeout(() => this.flush(), this.windowMs);
        this.timer.unref();
      }
      return true;
    }
    entry.count++;
    if (entry.count <= this.max) return true;
    if (entry.suppressed === 0) {
      entry.logger = logger;
      entry.method = method;
    }
    entry.suppressed++;
    return false;
  }
}
