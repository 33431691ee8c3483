import { serial } from '../internal/mutex.js';
import { TailState } from '../internal/tail.js';
import type { AuditRecord, AuditSink } from '../types.js';

/** A sink that keeps records in memory, with their order, for tests and development. */
export interface MemorySink extends AuditSink {
  /** The records of every chain, in the order written (a live array: tests may tamper with it). */
  readonly records: AuditRecord[];
}

/**
 * An in-memory sink: records are lost on restart. For tests, demos and a zero-infrastructure
 * start; use `postgresSink` or `fileSink` in production.
 */
export function memorySink(): MemorySink {
  const records: AuditRecord[] = [];
  const tails = new Map<string, TailState>();
  const lock = serial();
  return {
    name: 'memory',
    records,
    append(chain, build) {
      return lock(async () => {
        const state = tails.get(chain) ?? new TailState();
        tails.set(chain, state);
        const built = await build({ tail: state.tail, pending: async () => [...state.pending] });
        records.push(...built);
        state.push(built);
        return built;
      });
    },
    async *read(chain) {
      for (const record of [...records]) if (record.chain === chain) yield record;
    },
  };
}
