import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { currentContext, err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import type { BytesLike } from '@prod/crypto';
import { AuditErrors } from './errors.js';
import {
  checkpointSignature,
  contentDigest,
  keyFingerprint,
  recordHash,
  ZERO_HASH,
} from './internal/chain.js';
import { storedReader } from './internal/records.js';
import { redact } from './redact.js';
import type {
  AppendContext,
  AuditApp,
  AuditCheckpoint,
  AuditEntry,
  AuditEvent,
  AuditOutcome,
  AuditRecord,
  AuditSink,
  AuditWhere,
  VerifyReport,
} from './types.js';
import { verifyRecords } from './verify.js';

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  readonly sink: AuditSink;
  /**
   * The HMAC key that signs checkpoints: at least 32 bytes (text is used as its UTF-8 bytes).
   * Keep it out of the database the log is stored in: whoever holds it can re-sign history.
   */
  readonly signingKey: BytesLike;
  /** Older signing keys, so `verify()` still checks checkpoints signed before a rotation. */
  readonly previousKeys?: readonly BytesLike[];
  /** The chain name: one log, one chain (several may share a table). Default `default`. */
  readonly chain?: string;
  /** A signed checkpoint after this many records. Default 100 (10 to 1000). */
  readonly checkpointEvery?: number;
  /**
   * A checkpoint at least this often (ms) while records arrive, so a quiet log is sealed too.
   * Default 60,000; 0 turns the timer off.
   */
  readonly checkpointInterval?: number;
  /** Who writes (OWASP: the application). Default `{ service: 'app', host: os.hostname() }`. */
  readonly app?: AuditApp;
  /** More detail keys to redact, on top of the defaults (passwords, tokens, cookies...). */
  readonly redact?: readonly string[];
  /** Events per sink write at most (they share one transaction). Default 100. */
  readonly maxBatch?: number;
  /** Told when a background checkpoint fails. Default: the context logger, else `console.error`. */
  readonly onError?: (error: ProdError) => void;
  /** Clock. Default `() => new Date()`. */
  readonly now?: () => Date;
}

/** A tamper-evident audit log. */
export interface AuditLog {
  readonly chain: string;
  /**
   * Records an event: who (the context's actor unless given), what, when, where (ip, request
   * id and trace id from the request context), outcome and reason. Resolves once the sink has
   * it durably (committed, for PostgreSQL).
   *
   * @returns `Ok(entry)`; `Err` `AUDIT_INVALID_ENTRY` (nothing written), `AUDIT_SINK_FAILED`
   * (retryable) or `AUDIT_CLOSED`.
   */
  record(event: AuditEvent): Promise<Result<AuditEntry, ProdError>>;
  /** Writes a checkpoint now if records are unsealed (`close()` does it too). */
  checkpoint(): Promise<Result<AuditCheckpoint | undefined, ProdError>>;
  /**
   * Verifies the whole chain from the sink (see `verifyRecords`).
   *
   * @returns `Ok(report)`; `Err` `AUDIT_SINK_FAILED` when the sink cannot be read.
   */
  verify(): Promise<Result<VerifyReport, ProdError>>;
  /** Stops the timer, writes a last checkpoint, waits for pending writes. Does not close the sink. */
  close(): Promise<void>;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);
const ACTION = /^[A-Za-z0-9_.:/-]{1,128}$/;
const CHAIN = /^[A-Za-z0-9_.:-]{1,128}$/;
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];
const MAX_DETAILS_BYTES = 8 * 1024;
const MAX_REASON = 1024;

interface Pending {
  readonly event: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'chain' | 'v' | 'kind'>;
  readonly resolve: (result: Result<AuditEntry, ProdError>) => void;
}

function invalid(message: string): Result<never, ProdError> {
  return err(AuditErrors.AUDIT_INVALID_ENTRY({ message, captureStack: false }));
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

function whereOf(given: AuditWhere | undefined): AuditWhere {
  const context = currentContext();
  const where: Record<string, string> = {};
  if (context?.requestId !== undefined) where.requestId = context.requestId;
  if (context?.traceId !== undefined) where.traceId = context.traceId;
  if (context?.route !== undefined) where.route = context.route;
  for (const [key, value] of Object.entries(given ?? {})) {
    const kept = text(value, 256);
    if (kept !== undefined) where[key] = kept;
  }
  return where;
}

/**
 * Creates a tamper-evident audit log, after AWS CloudTrail's log file integrity validation:
 * each record carries the SHA-256 of the previous one (a hash chain) and, every
 * `checkpointEvery` records (and at least every `checkpointInterval`), a checkpoint lists the
 * content digests of the records since the last one and is HMAC-signed, chained to the
 * previous checkpoint's signature. `verify()` then says exactly which record was modified,
 * deleted, inserted or reordered.
 *
 * @throws `AUDIT_INVALID_OPTIONS` for a missing sink, a short key, bad bounds.
 * @example
 * const log = createAuditLog({ sink: memorySink(), signingKey: 'a-32-byte-or-longer-secret-from-config' });
 * const recorded = await log.record({
 *   action: 'note.delete',
 *   resource: { type: 'note', id: 'n1' },
 *   actor: { id: 'user-42', type: 'user' },
 * });
 * const report = await log.verify(); // Ok({ ok: true, issues: [], ... })
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const given = check.object<AuditLogOptions>('options', options);
  const sink = given.sink;
  if (typeof sink?.append !== 'function') check.fail('sink', 'an AuditSink', sink);
  const toKey = (value: unknown, name: string): Uint8Array => {
    const bytes =
      typeof value === 'string'
        ? new TextEncoder().encode(value)
        : value instanceof Uint8Array
          ? value
          : undefined;
    if (bytes === undefined || bytes.length < 32)
      check.fail(name, 'a key of at least 32 bytes', bytes === undefined ? value : 'a short key');
    return bytes as Uint8Array;
  };
  const key = toKey(given.signingKey, 'signingKey');
  const previousKeys = (given.previousKeys ?? []).map((one, index) =>
    toKey(one, `previousKeys[${index}]`),
  );
  const keyId = keyFingerprint(key);
  const chain = check.string('chain', given.chain, 'default', { nonEmpty: true });
  if (!CHAIN.test(chain)) check.fail('chain', '1-128 of A-Za-z0-9_.:-', chain);
  const every = check.integer('checkpointEvery', given.checkpointEvery, 100, {
    min: 10,
    max: 1000,
  });
  const interval = check.duration('checkpointInterval', given.checkpointInterval, 60_000);
  const maxBatch = check.integer('maxBatch', given.maxBatch, 100, { min: 1, max: 1000 });
  const redactKeys = given.redact ?? [];
  if (!Array.isArray(redactKeys) || redactKeys.some((one) => typeof one !== 'string')) {
    check.fail('redact', 'an array of key names', redactKeys);
  }
  const appGiven = check.object<AuditApp>('app', given.app);
  const app: AuditApp = {
    service: check.string('app.service', appGiven.service, 'app', { nonEmpty: true }),
    ...(appGiven.version === undefined
      ? {}
      : { version: check.string('app.version', appGiven.version, '') }),
    host: check.string('app.host', appGiven.host, hostname()),
  };
  const now = check.fn<() => Date>('now', given.now) ?? (() => new Date());
  const onError =
    check.fn<(error: ProdError) => void>('onError', given.onError) ??
    ((error: ProdError) => {
      const logger = currentContext()?.logger;
      if (logger !== undefined) logger.error({ err: error }, 'audit checkpoint failed');
      else console.error('@prod/audit: checkpoint failed', error);
    });

  const queue: Pending[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const makeCheckpoint = (
    seq: number,
    prevHash: string,
    since: readonly AuditRecord[],
    prevSignature: string | null,
    from: number,
  ): AuditCheckpoint => {
    const unsigned = {
      v: 1 as const,
      chain,
      seq,
      kind: 'checkpoint' as const,
      time: now().toISOString(),
      from,
      to: seq - 1,
      digests: since.map((record) => contentDigest(record)),
      prevSignature,
      keyId,
      prevHash,
    };
    const signature = checkpointSignature(key, unsigned);
    const signed = { ...unsigned, signature };
    return { ...signed, hash: recordHash(signed) };
  };

  /** Chains the events onto the tail, with a checkpoint each time `every` records are unsealed. */
  const builder =
    (events: readonly Pending[], force: boolean) =>
    async (context: AppendContext): Promise<AuditRecord[]> => {
      const tail = context.tail;
      let seq = tail?.seq ?? 0;
      let prevHash = tail?.hash ?? ZERO_HASH;
      let last = tail?.checkpoint;
      // Records after the last checkpoint: those already stored (read once, only if needed)
      // and those of this batch.
      let stored = seq - (last?.seq ?? 0);
      let fresh: AuditRecord[] = [];
      const out: AuditRecord[] = [];
      const seal = async (): Promise<void> => {
        const before = stored > 0 ? await context.pending() : [];
        seq += 1;
        const checkpoint = makeCheckpoint(
          seq,
          prevHash,
          [...before, ...fresh],
          last?.signature ?? null,
          (last?.seq ?? 0) + 1,
        );
        out.push(checkpoint);
        prevHash = checkpoint.hash;
        last = { seq: checkpoint.seq, signature: checkpoint.signature };
        stored = 0;
        fresh = [];
      };
      for (const pending of events) {
        seq += 1;
        const unhashed = {
          v: 1 as const,
          chain,
          seq,
          kind: 'event' as const,
          ...pending.event,
          prevHash,
        };
        const entry: AuditEntry = { ...unhashed, hash: recordHash(unhashed) };
        out.push(entry);
        fresh.push(entry);
        prevHash = entry.hash;
        if (stored + fresh.length >= every) await seal();
      }
      if (force && stored + fresh.length > 0) await seal();
      return out;
    };

  const sinkFailed = (cause: unknown): ProdError =>
    AuditErrors.AUDIT_SINK_FAILED({ message: `the ${sink.name} sink failed`, cause });

  // One write at a time per log: the queued events go together in the next one.
  const drain = (): Promise<void> => {
    running ??= (async () => {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          const written = await sink.append(chain, builder(batch, false));
          const entries = written.filter((record): record is AuditEntry => record.kind === 'event');
          batch.forEach((pending, index) => {
            const entry = entries[index];
            pending.resolve(
              entry === undefined
                ? err(sinkFailed(new Error('the sink lost a record')))
                : ok(entry),
            );
          });
        } catch (cause) {
          const error = sinkFailed(cause);
          for (const pending of batch) pending.resolve(err(error));
        }
      }
    })().finally(() => {
      running = undefined;
      // A record queued while the loop was ending would otherwise wait for the next one.
      if (queue.length > 0) void drain();
    });
    return running;
  };

  const checkpointNow = async (): Promise<Result<AuditCheckpoint | undefined, ProdError>> => {
    await running;
    try {
      const written = await sink.append(chain, builder([], true));
      const checkpoint = written.find(
        (record): record is AuditCheckpoint => record.kind === 'checkpoint',
      );
      return ok(checkpoint);
    } catch (cause) {
      return err(sinkFailed(cause));
    }
  };

  if (interval > 0) {
    timer = setInterval(() => {
      void checkpointNow().then((result) => {
        if (!result.ok) onError(result.error);
      });
    }, interval);
    timer.unref();
  }

  return {
    chain,
    record(event) {
      if (closed) return Promise.resolve(err(AuditErrors.AUDIT_CLOSED('the audit log is closed')));
      if (typeof event !== 'object' || event === null)
        return Promise.resolve(invalid('an event must be an object'));
      if (typeof event.action !== 'string' || !ACTION.test(event.action)) {
        return Promise.resolve(invalid('action must be 1-128 of A-Za-z0-9_.:/-'));
      }
      const outcome = event.outcome ?? 'success';
      if (!OUTCOMES.includes(outcome))
        return Promise.resolve(invalid('outcome must be success, failure or denied'));
      const contextActor = currentContext()?.actor;
      const actorGiven = event.actor === undefined ? contextActor : event.actor;
      if (actorGiven !== undefined && actorGiven !== null && typeof actorGiven.id !== 'string') {
        return Promise.resolve(invalid('actor.id must be a string'));
      }
      const resource = event.resource ?? null;
      if (
        resource !== null &&
        (typeof resource !== 'object' || typeof resource.type !== 'string')
      ) {
        return Promise.resolve(invalid('resource must be { type, id? }'));
      }
      if (event.reason !== undefined && typeof event.reason !== 'string') {
        return Promise.resolve(invalid('reason must be a string'));
      }
      if (
        event.details !== undefined &&
        (typeof event.details !== 'object' ||
          event.details === null ||
          Array.isArray(event.details))
      ) {
        return Promise.resolve(invalid('details must be an object'));
      }
      let time: string;
      if (event.time === undefined) time = now().toISOString();
      else {
        const date = event.time instanceof Date ? event.time : new Date(String(event.time));
        if (Number.isNaN(date.getTime())) return Promise.resolve(invalid('time must be a date'));
        time = date.toISOString();
      }
      let details: Record<string, unknown> | null = null;
      if (event.details !== undefined) {
        details = redact(event.details, { keys: redactKeys }) as Record<string, unknown>;
        if (JSON.stringify(details).length > MAX_DETAILS_BYTES) details = { truncated: true };
      }
      const actor =
        actorGiven === undefined || actorGiven === null
          ? null
          : {
              id: text(actorGiven.id, 256) as string,
              ...(typeof actorGiven.type === 'string'
                ? { type: text(actorGiven.type, 64) as string }
                : {}),
            };
      const pending: Omit<Pending, 'resolve'> = {
        event: {
          id: randomUUID(),
          time,
          action: event.action,
          outcome,
          actor,
          resource:
            resource === null
              ? null
              : {
                  type: text(resource.type, 128) as string,
                  ...(typeof resource.id === 'string'
                    ? { id: text(resource.id, 256) as string }
                    : {}),
                },
          reason: text(event.reason, MAX_REASON) ?? null,
          where: whereOf(event.where),
          app,
          details,
        },
      };
      return new Promise((resolve) => {
        queue.push({ ...pending, resolve });
        void drain();
      });
    },
    checkpoint: checkpointNow,
    async verify() {
      // A built-in sink gives its items as stored, so that one which is no record is reported.
      const stored = storedReader(sink)?.call(sink, chain) ?? sink.read?.(chain);
      if (stored === undefined) {
        return err(AuditErrors.AUDIT_SINK_FAILED(`the ${sink.name} sink cannot be read back`));
      }
      try {
        return ok(await verifyRecords(stored, { keys: [key, ...previousKeys], chain }));
      } catch (cause) {
        return err(sinkFailed(cause));
      }
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      if (closed) return;
      closed = true;
      await running;
      const last = await checkpointNow();
      if (!last.ok) onError(last.error);
    },
  };
}
