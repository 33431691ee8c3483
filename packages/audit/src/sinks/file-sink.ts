import { Buffer } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { optionChecks } from '@prod/core';
import { AuditErrors } from '../errors.js';
import { serial } from '../internal/mutex.js';
import { recordsOf, withStored } from '../internal/records.js';
import { TailState } from '../internal/tail.js';
import type { AuditRecord, AuditSink } from '../types.js';

/** Options of {@link fileSink}. */
export interface FileSinkOptions {
  /** The JSON-lines file (created with its folder when missing, appended to otherwise). */
  readonly path: string;
  /**
   * Whether each write is flushed to the disk (`fdatasync`) before `record()` resolves.
   * Default true: an acknowledged record survives a crash of the machine.
   */
  readonly fsync?: boolean;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);
const CHUNK = 256 * 1024;

/** Reads the file backwards until the chain's last checkpoint: its tail and pending records. */
async function recover(
  handle: FileHandle,
  chain: string,
): Promise<{ state: TailState; endsWithNewline: boolean }> {
  const { size } = await handle.stat();
  const state = new TailState();
  if (size === 0) return { state, endsWithNewline: true };
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  const found: AuditRecord[] = [];
  let position = size;
  // Bytes, not text, are carried between chunks: a chunk may end inside a UTF-8 character.
  let rest = Buffer.alloc(0);
  let done = false;
  while (position > 0 && !done) {
    const length = Math.min(CHUNK, position);
    position -= length;
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, position);
    const joined = Buffer.concat([buffer, rest]);
    // Above the first newline the line may go on in the chunk before: keep it for then.
    const cut = position > 0 ? joined.indexOf(0x0a) : -1;
    if (position > 0 && cut < 0) {
      rest = joined;
      continue;
    }
    rest = cut >= 0 ? joined.subarray(0, cut) : Buffer.alloc(0);
    const lines = joined
      .subarray(cut + 1)
      .toString('utf8')
      .split('\n');
    for (let i = lines.length - 1; i >= 0 && !done; i--) {
      const line = lines[i]?.trim();
      if (!line) continue;
      let record: AuditRecord;
      try {
        record = JSON.parse(line) as AuditRecord;
      } catch {
        continue;
      }
      if (record?.chain !== chain) continue;
      found.unshift(record);
      if (record.kind === 'checkpoint') done = true;
    }
  }
  state.push(found);
  return { state, endsWithNewline: last[0] === 0x0a };
}

/**
 * A JSON-lines file sink: one record per line, appended, flushed to disk before `record()`
 * resolves (unless `fsync: false`). On start it reads the file's end back to continue the
 * chain. One writing process per file: for several processes use `postgresSink`. The file is
 * what `prod-audit verify <file>` reads.
 *
 * @throws `AUDIT_INVALID_OPTIONS` without a path.
 */
export function fileSink(options: FileSinkOptions): AuditSink {
  const given = check.object<FileSinkOptions>('options', options);
  const path = check.string('path', given.path, '', { nonEmpty: true });
  const fsync = check.boolean('fsync', given.fsync, true);
  const lock = serial();
  let handle: FileHandle | undefined;
  const tails = new Map<string, TailState>();
  let needsNewline = false;

  const opened = async (): Promise<FileHandle> => {
    if (handle === undefined) {
      await mkdir(dirname(path), { recursive: true });
      handle = await open(path, 'a+');
    }
    return handle;
  };

  // Every line of the file, as it is (verify() reports those that are not records).
  const lines = async function* (): AsyncGenerator<string> {
    const stream = createReadStream(path, { encoding: 'utf8' });
    const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of reader) yield line;
    } finally {
      reader.close();
      stream.destroy();
    }
  };

  const sink: AuditSink = {
    name: 'file',
    append(chain, build) {
      return lock(async () => {
        const file = await opened();
        let state = tails.get(chain);
        if (state === undefined) {
          const recovered = await recover(file, chain);
          state = recovered.state;
          needsNewline ||= !recovered.endsWithNewline;
          tails.set(chain, state);
        }
        const current = state;
        const built = await build({
          tail: current.tail,
          pending: async () => [...current.pending],
        });
        // A line cut by a crash stays as it is (the verifier reports it); new lines start fresh.
        const text = `${needsNewline ? '\n' : ''}${built.map((record) => JSON.stringify(record)).join('\n')}\n`;
        await file.write(text);
        if (fsync) await file.datasync();
        needsNewline = false;
        current.push(built);
        return built;
      });
    },
    read: (chain) => recordsOf(lines(), chain),
    async close() {
      await lock(async () => {
        await handle?.close();
        handle = undefined;
      });
    },
  };
  return withStored(sink, lines);
}
