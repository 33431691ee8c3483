import { hostname } from 'node:os';
import { optionChecks } from '@prod/core';
import { AuditErrors } from '../errors.js';
import { serial } from '../internal/mutex.js';
import { TailState } from '../internal/tail.js';
import type { AuditSink } from '../types.js';

/** The part of a pino logger the sink uses (any logger with these methods fits). */
export interface PinoLike {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** Options of {@link pinoSink}. */
export interface PinoSinkOptions {
  /** Default `info`. */
  readonly level?: 'info' | 'warn' | 'error';
  /** The log line's message. Default `audit`. */
  readonly message?: string;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);

/**
 * A chain name unique to this process (`<name>.<host>.<pid>.<start time>`), for sinks that
 * cannot read their chain back (pino): each process then writes its own chain, from seq 1.
 */
export function processChain(name: string): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '-')
    .slice(0, 40);
  return `${name}.${host}.${process.pid}.${Date.now().toString(36)}`.slice(0, 128);
}

/**
 * A sink that writes each record as a log line (`{ audit: record }`), to ship with your other
 * logs. It cannot read the chain back: give the log a chain per process
 * (`chain: processChain('api')`) and verify the shipped lines offline with `prod-audit verify`.
 * Not durable: pino writes asynchronously; use `postgresSink` or `fileSink` when a record must
 * be on disk before the action goes on.
 *
 * @example
 * declare const logger: PinoLike;
 * const log = createAuditLog({ sink: pinoSink(logger), chain: processChain('api'), signingKey: 'a-32-byte-or-longer-secret-from-config' });
 */
export function pinoSink(logger: PinoLike, options: PinoSinkOptions = {}): AuditSink {
  if (typeof logger?.info !== 'function') {
    check.fail('logger', 'a pino logger', logger);
  }
  const given = check.object<PinoSinkOptions>('options', options);
  const level = check.oneOf('level', given.level, ['info', 'warn', 'error'], 'info');
  const message = check.string('message', given.message, 'audit');
  const lock = serial();
  const tails = new Map<string, TailState>();
  return {
    name: 'pino',
    append(chain, build) {
      return lock(async () => {
        const state = tails.get(chain) ?? new TailState();
        tails.set(chain, state);
        const built = await build({ tail: state.tail, pending: async () => [...state.pending] });
        for (const record of built) logger[level]({ audit: record }, message);
        state.push(built);
        return built;
      });
    },
  };
}
