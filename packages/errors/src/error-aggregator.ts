import { currentContext, isProdError, ProdError, type Result } from '@prod/core';
import { fingerprint } from './fingerprint.js';
import { debugEnabled, debugLoggerOption } from './internal/debug.js';
import { check } from './internal/options.js';
import type { ErrorReport, ErrorSample, ErrorSink, SinkOutcome, WindowCount } from './sinks.js';
import { timeout } from './timeout.js';
import type { DebugLogger } from './types.js';

/** The context of one occurrence; by default read from `currentContext()`. */
export interface CaptureContext {
  readonly requestId?: string;
  readonly route?: string;
  readonly traceId?: string;
}

/** Options of {@link ErrorAggregator}. */
export interface ErrorAggregatorOptions {
  /** Where reports go (an array of sinks, possibly empty). */
  readonly sinks: readonly ErrorSink[];
  /** Length of one counting window, a finite number of ms > 0. Default 60 000 ms. */
  readonly windowMs?: number;
  /** Windows of history kept per group, an integer >= 1. Default 10. */
  readonly keepWindows?: number;
  /**
   * Reports (one per group) a sink may receive per minute, an integer >= 1; the rest wait.
   * Default 30.
   */
  readonly maxReportsPerMinute?: number;
  /** Contexts sampled per group (reservoir sampling), an integer >= 0. Default 5. */
  readonly samplesPerGroup?: number;
  /** Stack frames in a fingerprint, an integer from 1 to 50. Default 3. */
  readonly frames?: number;
  /** Groups kept, an integer >= 1; the least recently seen is dropped beyond. Default 1 000. */
  readonly maxGroups?: number;
  /**
   * Flush this long after an error is captured (0 to 2 147 483 647 ms); 0 disables automatic
   * flushes. Default 10 000 ms.
   */
  readonly flushIntervalMs?: number;
  /** Time allowed for one sink delivery, 1 to 2 147 483 647 ms. Default 10 000 ms. */
  readonly sinkTimeoutMs?: number;
  /** Wall clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Told about each failed delivery (the reports are kept and sent again later). */
  readonly onSinkError?: (error: ProdError, sink: string) => void;
  /** Source of randomness for sampling. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Debug lines: `error aggregator: flushed` (delivered, deferred, failedSinks, groups) after
   * each flush that had something to send. Default none.
   */
  readonly logger?: DebugLogger;
}

/** A read-only view of one group. */
export interface ErrorGroup {
  readonly fingerprint: string;
  readonly code: string;
  readonly status: number;
  readonly message: string;
  readonly total: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly samples: readonly ErrorSample[];
}

/** What one flush did. */
export interface FlushSummary {
  /** Reports delivered, summed over sinks. */
  readonly delivered: number;
  /** Reports held back by the per-minute cap, summed over sinks. */
  readonly deferred: number;
  /** Names of the sinks whose delivery failed. */
  readonly failedSinks: readonly string[];
}

/** What the aggregator has counted. */
export interface AggregatorStats {
  readonly groups: number;
  readonly captured: number;
  /** Occurrences lost with evicted groups before any sink received them. */
  readonly dropped: number;
  readonly sinkFailures: number;
}

interface Group {
  readonly fingerprint: string;
  readonly code: string;
  readonly status: number;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  total: number;
  firstSeen: number;
  lastSeen: number;
  windowStart: number;
  windowCount: number;
  history: WindowCount[];
  samples: ErrorSample[];
  seenForSampling: number;
}

interface SinkState {
  readonly sink: ErrorSink;
  /** Per group, the total already delivered to this sink. */
  readonly delivered: Map<string, number>;
  /** Times of recent deliveries, one entry per report, for the per-minute cap. */
  sentAt: number[];
}

const MAX_STRING = 256;
const MAX_STACK = 4_096;
const MAX_MESSAGE = 1_024;

/**
 * Groups errors by fingerprint, counts them per time window and reports them to sinks, at
 * most `maxReportsPerMinute` reports per sink per minute.
 *
 * Details: one group per fingerprint (code + normalized top stack frames) keeps its first and
 * last seen times, per-window counts and a few sampled contexts (request id, route, trace id,
 * read from `currentContext()` by default). A flush sends each sink the groups with
 * occurrences it has not received yet, new groups first. A sink that fails (throws, rejects,
 * returns `Err`, times out) loses nothing: its unreported occurrences are merged into the
 * next flush, and the other sinks are not held up. During an error storm the cap holds:
 * the surplus waits, counted, for later minutes.
 *
 * The constructor throws `ERRORS_INVALID_OPTIONS` for a bad option.
 *
 * Gotchas: `capture` never throws and costs a stack parse and a hash; call it for errors
 * you would log, not in a tight loop of expected failures.
 *
 * @example
 * const errors = new ErrorAggregator({
 *   sinks: [logSink(), webhookSink({ url: 'https://hooks.example.com/errors' })],
 * });
 * errors.capture(new Error('boom')); // in an error handler
 * await errors.close(); // on shutdown: final flush
 */
export class ErrorAggregator {
  private readonly groupsByFingerprint = new Map<string, Group>();
  private readonly sinkStates: SinkState[];
  private readonly windowMs: number;
  private readonly keepWindows: number;
  private readonly maxPerMinute: number;
  private readonly samplesPerGroup: number;
  private readonly frames: number;
  private readonly maxGroups: number;
  private readonly flushIntervalMs: number;
  private readonly sinkTimeout: ReturnType<typeof timeout>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly onSinkError: ((error: ProdError, sink: string) => void) | undefined;
  private readonly logger: DebugLogger | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<FlushSummary> = Promise.resolve({
    delivered: 0,
    deferred: 0,
    failedSinks: [],
  });
  private closed = false;
  private captured = 0;
  private dropped = 0;
  private sinkFailures = 0;

  constructor(options: ErrorAggregatorOptions) {
    if (options === undefined) check.fail('options', 'an object with sinks', options);
    const given = check.object<ErrorAggregatorOptions>('options', options);
    const sinks: unknown = given.sinks;
    if (!Array.isArray(sinks)) check.fail('sinks', 'an array of sinks ({ name, send() })', sinks);
    (sinks as unknown[]).forEach((sink, at) => {
      if (typeof (sink as Partial<ErrorSink> | null)?.send !== 'function') {
        check.fail(`sinks[${at}]`, 'a sink ({ name, send() })', sink);
      }
    });
    this.sinkStates = (sinks as ErrorSink[]).map((sink) => ({
      sink,
      delivered: new Map(),
      sentAt: [],
    }));
    const positive = { min: 0, exclusiveMin: true } as const;
    this.windowMs = check.number('windowMs', given.windowMs, 60_000, positive);
    this.keepWindows = check.integer('keepWindows', given.keepWindows, 10, { min: 1 });
    this.maxPerMinute = check.integer('maxReportsPerMinute', given.maxReportsPerMinute, 30, {
      min: 1,
    });
    this.samplesPerGroup = check.integer('samplesPerGroup', given.samplesPerGroup, 5);
    this.frames = check.integer('frames', given.frames, 3, { min: 1, max: 50 });
    this.maxGroups = check.integer('maxGroups', given.maxGroups, 1_000, { min: 1 });
    this.flushIntervalMs = check.duration('flushIntervalMs', given.flushIntervalMs, 10_000);
    this.sinkTimeout = timeout(
      check.duration('sinkTimeoutMs', given.sinkTimeoutMs, 10_000, positive),
    );
    this.now = check.fn<() => number>('now', given.now) ?? Date.now;
    this.random = check.fn<() => number>('random', given.random) ?? Math.random;
    this.onSinkError = check.fn<(error: ProdError, sink: string) => void>(
      'onSinkError',
      given.onSinkError,
    );
    this.logger = debugLoggerOption(given.logger);
  }

  /**
   * Records one occurrence. Never throws, whatever `error` is.
   *
   * @returns the fingerprint of the group it joined.
   */
  capture(error: unknown, context?: CaptureContext): string {
    const id = fingerprint(error, { frames: this.frames });
    try {
      this.record(id, error, context);
    } catch {
      // Reporting must never become the failure: a hostile value is counted as dropped.
      this.dropped += 1;
    }
    return id;
  }

  /** A snapshot of the groups, most recently seen last. */
  groups(): readonly ErrorGroup[] {
    return [...this.groupsByFingerprint.values()].map((group) => ({
      fingerprint: group.fingerprint,
      code: group.code,
      status: group.status,
      message: group.message,
      total: group.total,
      firstSeen: group.firstSeen,
      lastSeen: group.lastSeen,
      samples: [...group.samples],
    }));
  }

  stats(): AggregatorStats {
    return {
      groups: this.groupsByFingerprint.size,
      captured: this.captured,
      dropped: this.dropped,
      sinkFailures: this.sinkFailures,
    };
  }

  /**
   * Sends every sink the occurrences it has not received yet, within its per-minute cap.
   * Flushes run one at a time. Never rejects.
   */
  flush(): Promise<FlushSummary> {
    this.flushing = this.flushing.then(
      () => this.flushNow(),
      () => this.flushNow(),
    );
    return this.flushing;
  }

  /** Stops automatic flushes and flushes one last time. */
  async close(): Promise<FlushSummary> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.flush();
  }

  private record(id: string, error: unknown, context: CaptureContext | undefined): void {
    const now = this.now();
    this.captured += 1;
    let group = this.groupsByFingerprint.get(id);
    if (group === undefined) {
      group = this.newGroup(id, error, now);
      this.evictBeyondLimit();
    } else {
      // Re-insert so the Map's order is least recently seen first.
      this.groupsByFingerprint.delete(id);
      this.groupsByFingerprint.set(id, group);
    }
    group.total += 1;
    group.lastSeen = now;
    const windowStart = now - (now % this.windowMs);
    if (windowStart !== group.windowStart) {
      if (group.windowCount > 0) this.closeWindow(group);
      group.windowStart = windowStart;
      group.windowCount = 0;
    }
    group.windowCount += 1;
    this.sample(group, now, context);
    this.schedule();
  }

  private newGroup(id: string, error: unknown, now: number): Group {
    const normalized = ProdError.from(error);
    const status = Number.isInteger(normalized.status) ? normalized.status : 500;
    const original = error instanceof Error || isProdError(error) ? error : normalized;
    const stack = readString(original, 'stack');
    const group: Group = {
      fingerprint: id,
      code: normalized.code,
      status,
      name: truncate(readString(original, 'name') ?? 'Error', MAX_STRING),
      message: truncate(normalized.message, MAX_MESSAGE),
      stack: stack === undefined ? undefined : truncate(stack, MAX_STACK),
      total: 0,
      firstSeen: now,
      lastSeen: now,
      windowStart: now - (now % this.windowMs),
      windowCount: 0,
      history: [],
      samples: [],
      seenForSampling: 0,
    };
    this.groupsByFingerprint.set(id, group);
    return group;
  }

  private evictBeyondLimit(): void {
    while (this.groupsByFingerprint.size > this.maxGroups) {
      const oldest = this.groupsByFingerprint.keys().next().value as string;
      const group = this.groupsByFingerprint.get(oldest) as Group;
      this.groupsByFingerprint.delete(oldest);
      let unsent = 0;
      for (const state of this.sinkStates) {
        unsent = Math.max(unsent, group.total - (state.delivered.get(oldest) ?? 0));
        state.delivered.delete(oldest);
      }
      this.dropped += unsent;
    }
  }

  private closeWindow(group: Group): void {
    group.history.push({ start: iso(group.windowStart), count: group.windowCount });
    if (group.history.length > this.keepWindows) group.history.shift();
  }

  private sample(group: Group, now: number, context: CaptureContext | undefined): void {
    if (this.samplesPerGroup === 0) return;
    group.seenForSampling += 1;
    let slot = group.samples.length;
    if (slot >= this.samplesPerGroup) {
      slot = Math.floor(this.random() * group.seenForSampling);
      if (!(slot < this.samplesPerGroup)) return;
    }
    group.samples[slot] = sampleOf(now, context ?? currentContext());
  }

  private schedule(): void {
    if (this.closed || this.flushIntervalMs === 0 || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.timer.unref?.();
  }

  private async flushNow(): Promise<FlushSummary> {
    const outcomes = await Promise.all(
      this.sinkStates.map((state) =>
        this.deliver(state).catch(() => ({
          name: state.sink.name,
          delivered: 0,
          deferred: 0,
          failed: true,
        })),
      ),
    );
    let delivered = 0;
    let deferred = 0;
    const failedSinks: string[] = [];
    for (const outcome of outcomes) {
      delivered += outcome.delivered;
      deferred += outcome.deferred;
      if (outcome.failed) failedSinks.push(outcome.name);
    }
    if (deferred > 0 || failedSinks.length > 0) this.schedule();
    if ((delivered > 0 || deferred > 0 || failedSinks.length > 0) && debugEnabled(this.logger)) {
      this.logger.debug(
        { delivered, deferred, failedSinks, groups: this.groupsByFingerprint.size },
        'error aggregator: flushed',
      );
    }
    return { delivered, deferred, failedSinks };
  }

  private async deliver(
    state: SinkState,
  ): Promise<{ name: string; delivered: number; deferred: number; failed: boolean }> {
    const name = state.sink.name;
    const now = this.now();
    state.sentAt = state.sentAt.filter((at) => now - at < 60_000);
    const pending: Group[] = [];
    for (const group of this.groupsByFingerprint.values()) {
      if (group.total > (state.delivered.get(group.fingerprint) ?? 0)) pending.push(group);
    }
    if (pending.length === 0) return { name, delivered: 0, deferred: 0, failed: false };
    pending.sort((a, b) => {
      const newA = state.delivered.has(a.fingerprint) ? 1 : 0;
      const newB = state.delivered.has(b.fingerprint) ? 1 : 0;
      return newA - newB || unsent(state, b) - unsent(state, a);
    });
    const allowance = Math.max(0, this.maxPerMinute - state.sentAt.length);
    const batch = pending.slice(0, allowance);
    const deferred = pending.length - batch.length;
    if (batch.length === 0) return { name, delivered: 0, deferred, failed: false };
    const totals = batch.map((group) => group.total);
    const reports = batch.map((group) => this.report(group, state));
    // Attempts count against the cap too: a failing sink is not hammered either.
    for (let i = 0; i < batch.length; i++) state.sentAt.push(now);
    const result = await this.sinkTimeout.execute(({ signal }) =>
      callSink(state.sink, reports, signal),
    );
    if (!result.ok) {
      this.sinkFailures += 1;
      this.reportSinkError(ProdError.from(result.error), name);
      return { name, delivered: 0, deferred, failed: true };
    }
    batch.forEach((group, i) => {
      if (this.groupsByFingerprint.has(group.fingerprint)) {
        state.delivered.set(group.fingerprint, totals[i] ?? group.total);
      }
    });
    return { name, delivered: batch.length, deferred, failed: false };
  }

  private report(group: Group, state: SinkState): ErrorReport {
    const windows = [...group.history];
    if (group.windowCount > 0) {
      windows.push({ start: iso(group.windowStart), count: group.windowCount });
    }
    return {
      fingerprint: group.fingerprint,
      code: group.code,
      status: group.status,
      name: group.name,
      message: group.message,
      count: unsent(state, group),
      total: group.total,
      firstSeen: iso(group.firstSeen),
      lastSeen: iso(group.lastSeen),
      windows: windows.slice(-this.keepWindows),
      samples: [...group.samples],
      ...(group.stack === undefined ? {} : { stack: group.stack }),
    };
  }

  private reportSinkError(error: ProdError, sink: string): void {
    try {
      this.onSinkError?.(error, sink);
    } catch {
      // The callback is for observation; its own failure must not stop a flush.
    }
  }
}

async function callSink(
  sink: ErrorSink,
  reports: readonly ErrorReport[],
  signal: AbortSignal,
): Promise<Result<void, ProdError>> {
  const outcome: SinkOutcome = await sink.send(reports, signal);
  if (outcome !== undefined && outcome !== null && typeof outcome === 'object' && 'ok' in outcome) {
    return outcome.ok ? outcome : { ok: false, error: ProdError.from(outcome.error) };
  }
  return { ok: true, value: undefined };
}

function unsent(state: SinkState, group: Group): number {
  return group.total - (state.delivered.get(group.fingerprint) ?? 0);
}

function sampleOf(now: number, context: CaptureContext | undefined): ErrorSample {
  const sample: { -readonly [K in keyof ErrorSample]: ErrorSample[K] } = { at: iso(now) };
  if (context === undefined || context === null || typeof context !== 'object') return sample;
  const requestId = safeField(context, 'requestId');
  const route = safeField(context, 'route');
  const traceId = safeField(context, 'traceId');
  if (requestId !== undefined) sample.requestId = requestId;
  if (route !== undefined) sample.route = route;
  if (traceId !== undefined) sample.traceId = traceId;
  return sample;
}

function safeField(context: object, key: string): string | undefined {
  try {
    const value = (context as Record<string, unknown>)[key];
    return typeof value === 'string' ? truncate(value, MAX_STRING) : undefined;
  } catch {
    return undefined;
  }
}

function readString(value: unknown, key: string): string | undefined {
  try {
    if (typeof value !== 'object' || value === null) return undefined;
    const found = (value as Record<string, unknown>)[key];
    return typeof found === 'string' ? found : undefined;
  } catch {
    return undefined;
  }
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}
