// The in-memory tail of a chain, for sinks that are the only writer of their chain.
import type { AuditRecord, ChainTail } from '../types.js';

export class TailState {
  tail: ChainTail | undefined;
  /** Records after the last checkpoint. */
  pending: AuditRecord[] = [];

  push(records: readonly AuditRecord[]): void {
    for (const record of records) {
      if (record.kind === 'checkpoint') {
        this.pending = [];
        this.tail = {
          seq: record.seq,
          hash: record.hash,
          checkpoint: { seq: record.seq, signature: record.signature },
        };
      } else {
        this.pending.push(record);
        this.tail = { seq: record.seq, hash: record.hash, checkpoint: this.tail?.checkpoint };
      }
    }
  }
}
