import { serial } from '../internal/mutex.js';
import { recordsOf, withStored } from '../internal/records.js';
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
  const sink: MemorySink = {
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
    read: (chain) => recordsOf([...records], chain),
  };
  // verify() sees every stored item, so that a tampered one which is no record is reported.
  return withStored(sink, async function* stored() {
    yield* [...records];
  });
}
