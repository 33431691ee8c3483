import type { BytesLike } from '@prod/crypto';
import {
  contentDigest,
  keyFingerprint,
  recordHash,
  signatureMatches,
  ZERO_HASH,
} from './internal/chain.js';
import { parseItem, wellFormed } from './internal/records.js';
import type { AuditIssue, AuditRecord, ChainReport, VerifyReport } from './types.js';

/** Options of {@link verifyRecords}. */
export interface VerifyOptions {
  /**
   * The signing keys (the current one and any older ones) to check checkpoint signatures.
   * Without them checkpoints are used unverified and the report says `signaturesChecked: false`.
   */
  readonly keys?: readonly BytesLike[];
  /** Only this chain (by default every chain found). */
  readonly chain?: string;
  /** Stop collecting issues after this many (the verification still runs). Default 10,000. */
  readonly maxIssues?: number;
}

interface Item {
  readonly record: AuditRecord;
  readonly position: number;
  readonly selfValid: boolean;
  readonly digest: string;
}

interface Sealed {
  readonly from: number;
  readonly to: number;
  readonly digests: readonly string[];
  readonly seq: number;
}

// Above this many records between two checkpoints the exact alignment is skipped (its cost is
// quadratic) and records are compared by position.
const MAX_ALIGN = 4096;

function toBytes(key: BytesLike): Uint8Array {
  return typeof key === 'string' ? new TextEncoder().encode(key) : key;
}

/** Longest common subsequence alignment: pairs of [storedIndex, signedIndex]. */
function align(stored: readonly string[], signed: readonly string[]): [number, number][] {
  const n = stored.length;
  const m = signed.length;
  if (n > MAX_ALIGN || m > MAX_ALIGN) {
    const pairs: [number, number][] = [];
    for (let i = 0; i < Math.min(n, m); i++) if (stored[i] === signed[i]) pairs.push([i, i]);
    return pairs;
  }
  const width = m + 1;
  const table = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] =
        stored[i] === signed[j]
          ? (table[(i + 1) * width + j + 1] as number) + 1
          : Math.max(table[(i + 1) * width + j] as number, table[i * width + j + 1] as number);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (stored[i] === signed[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if ((table[(i + 1) * width + j] as number) >= (table[i * width + j + 1] as number)) i++;
    else j++;
  }
  return pairs;
}

/**
 * Verifies records (objects, JSON lines, or pino lines carrying an `audit` member) in their
 * stored order, and reports exactly what changed:
 *
 * - within a range sealed by a valid signed checkpoint, the records are aligned with the
 *   checkpoint's signed content digests: a record whose content differs is `modified`, a
 *   signed record that is gone is `deleted`, a record the checkpoint does not list is
 *   `inserted`, a signed record found at another place is `reordered`. This holds even against
 *   someone who recomputed every hash after their change: they cannot sign a new checkpoint.
 * - after the last checkpoint (the unsealed tail), the hash chain alone: a record whose hash
 *   does not match its content, or that its successor does not link to, is `modified`; a gap
 *   in the sequence is `deleted`; a second record with a seq is `inserted`.
 * - everywhere: a record stored after a record with a higher seq is `reordered`; a line that is
 *   not a record is `malformed`; a checkpoint whose signature, key or range is wrong is
 *   `bad-checkpoint`.
 *
 * What it cannot see: records cut off the end after the last checkpoint (nothing after them
 * remembers them); compare `lastSeq` with what you expect, or anchor checkpoints elsewhere.
 *
 * @example
 * declare const lines: AsyncIterable<string>;
 * const report = await verifyRecords(lines, { keys: [process.env.AUDIT_KEY ?? ''] });
 * for (const issue of report.issues) console.log(issue.kind, issue.seq, issue.message);
 */
export async function verifyRecords(
  input: Iterable<unknown> | AsyncIterable<unknown>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const keys = new Map<string, Uint8Array>();
  for (const key of options.keys ?? []) {
    const bytes = toBytes(key);
    if (bytes.length > 0) keys.set(keyFingerprint(bytes), bytes);
  }
  const signaturesChecked = keys.size > 0;
  const maxIssues = options.maxIssues ?? 10_000;
  const issues: AuditIssue[] = [];
  const report = (issue: AuditIssue): void => {
    if (issues.length < maxIssues) issues.push(issue);
  };
  const chains = new Map<string, Item[]>();
  let position = -1;
  let records = 0;
  for await (const raw of input as AsyncIterable<unknown>) {
    position += 1;
    const object = parseItem(raw);
    if (object === undefined) continue;
    if (!wellFormed(object)) {
      report({
        kind: 'malformed',
        chain: typeof object.chain === 'string' ? object.chain : '',
        position,
        message: 'not an audit record',
      });
      continue;
    }
    if (options.chain !== undefined && object.chain !== options.chain) continue;
    records += 1;
    const record = object as AuditRecord;
    const items = chains.get(record.chain) ?? [];
    chains.set(record.chain, items);
    items.push({
      record,
      position,
      selfValid: recordHash(object) === record.hash,
      digest: contentDigest(object),
    });
  }

  const chainReports: ChainReport[] = [];
  for (const [chain, items] of chains) {
    chainReports.push(verifyChain(chain, items, keys, signaturesChecked, report));
  }
  return {
    ok: issues.length === 0,
    records,
    chains: chainReports,
    issues,
    signaturesChecked,
  };
}

function verifyChain(
  chain: string,
  items: readonly Item[],
  keys: ReadonlyMap<string, Uint8Array>,
  signaturesChecked: boolean,
  report: (issue: AuditIssue) => void,
): ChainReport {
  const reported = new Set<Item>();
  const flag = (item: Item, kind: AuditIssue['kind'], message: string): void => {
    if (reported.has(item)) return;
    reported.add(item);
    report({ kind, chain, seq: item.record.seq, position: item.position, message });
  };

  // 1. Stored order: a record after one with a higher seq was moved.
  let highest = 0;
  const seqs = new Set<number>();
  for (const item of items) {
    const { seq } = item.record;
    if (seq < highest && !seqs.has(seq))
      flag(item, 'reordered', `seq ${seq} is stored after seq ${highest}`);
    highest = Math.max(highest, seq);
    seqs.add(seq);
  }

  // 2. Seq order, duplicates kept in stored order.
  const sorted = [...items].sort((a, b) => a.record.seq - b.record.seq || a.position - b.position);
  const bySeq = new Map<number, Item[]>();
  for (const item of sorted) {
    const list = bySeq.get(item.record.seq) ?? [];
    list.push(item);
    bySeq.set(item.record.seq, list);
  }

  // 3. Checkpoints: signature, key, range, link to the previous one.
  const sealed: Sealed[] = [];
  let previous: { seq: number; signature: string } | undefined;
  let checkpoints = 0;
  // After a checkpoint already reported, the next one cannot be expected to link to it.
  let afterBad = false;
  for (const item of sorted) {
    const record = item.record;
    if (record.kind !== 'checkpoint') continue;
    checkpoints += 1;
    const key = keys.get(record.keyId);
    if (signaturesChecked && key === undefined) {
      flag(
        item,
        'bad-checkpoint',
        `checkpoint ${record.seq} is signed with an unknown key ${record.keyId}`,
      );
      afterBad = true;
      continue;
    }
    if (key !== undefined && !signatureMatches(key, record as unknown as Record<string, unknown>)) {
      flag(item, 'bad-checkpoint', `checkpoint ${record.seq} has an invalid signature`);
      afterBad = true;
      continue;
    }
    const expectedFrom = (previous?.seq ?? 0) + 1;
    const rangeOk =
      record.to === record.seq - 1 &&
      record.from <= record.to + 1 &&
      record.digests.length === record.to - record.from + 1;
    if (!rangeOk) {
      flag(item, 'bad-checkpoint', `checkpoint ${record.seq} covers an inconsistent range`);
      afterBad = true;
      continue;
    }
    const previousGone = (!bySeq.has(record.from - 1) && record.from > 1) || afterBad;
    afterBad = false;
    if (
      !previousGone &&
      (record.from !== expectedFrom || record.prevSignature !== (previous?.signature ?? null))
    ) {
      flag(
        item,
        'bad-checkpoint',
        `checkpoint ${record.seq} does not follow the previous checkpoint`,
      );
    }
    sealed.push({ from: record.from, to: record.to, digests: record.digests, seq: record.seq });
    previous = { seq: record.seq, signature: record.signature };
  }

  // 4. Sealed ranges: align stored content digests with the signed ones.
  const covered = (seq: number): boolean =>
    sealed.some((range) => seq >= range.from && seq <= range.to);
  for (const range of sealed) {
    const stored = sorted.filter(
      (item) => item.record.seq >= range.from && item.record.seq <= range.to,
    );
    const pairs = align(
      stored.map((item) => item.digest),
      range.digests,
    );
    const matchedStored = new Set(pairs.map(([i]) => i));
    const matchedSigned = new Set(pairs.map(([, j]) => j));
    const loose = stored.map((_, i) => i).filter((i) => !matchedStored.has(i));
    const missing = range.digests.map((_, j) => j).filter((j) => !matchedSigned.has(j));
    // A digest both unmatched in the stored records and in the signed list moved.
    for (const i of [...loose]) {
      const j = missing.find((index) => range.digests[index] === stored[i]?.digest);
      if (j === undefined) continue;
      flag(
        stored[i] as Item,
        'reordered',
        `seq ${stored[i]?.record.seq} holds the record signed as seq ${range.from + j}`,
      );
      loose.splice(loose.indexOf(i), 1);
      missing.splice(missing.indexOf(j), 1);
    }
    // Pair what is left by position: a replaced record is modified; the rest deleted/inserted.
    const storedAt = (i: number): number => stored[i]?.record.seq ?? 0;
    for (const j of [...missing]) {
      const seq = range.from + j;
      const i = loose.find((index) => storedAt(index) === seq);
      if (i !== undefined) {
        flag(stored[i] as Item, 'modified', `seq ${seq} differs from its signed content`);
        loose.splice(loose.indexOf(i), 1);
        missing.splice(missing.indexOf(j), 1);
      }
    }
    for (const j of missing) {
      report({
        kind: 'deleted',
        chain,
        seq: range.from + j,
        message: `seq ${range.from + j} is signed by checkpoint ${range.seq} but missing`,
      });
    }
    for (const i of loose) {
      flag(stored[i] as Item, 'inserted', `seq ${storedAt(i)} is not in checkpoint ${range.seq}`);
    }
    // Matched records whose chain fields were altered.
    for (const [i] of pairs) {
      const item = stored[i] as Item;
      if (!item.selfValid)
        flag(item, 'modified', `seq ${item.record.seq} has altered chain fields`);
    }
  }

  // 5. Unsealed records: the hash chain alone.
  let expected = 1;
  let predecessor: Item | undefined;
  for (const [seq, list] of [...bySeq.entries()]) {
    if (seq > expected && !covered(expected) && !covered(seq - 1)) {
      const count = seq - expected;
      report({
        kind: 'deleted',
        chain,
        seq: expected,
        message:
          count === 1
            ? `seq ${expected} is missing`
            : `seq ${expected}-${seq - 1} are missing (${count} records)`,
      });
      predecessor = undefined;
    }
    expected = seq + 1;
    const successor = bySeq.get(seq + 1)?.[0];
    // The genuine record of a seq links both ways; others with the same seq were inserted.
    const genuine =
      list.find((item) => item.selfValid && successor?.record.prevHash === item.record.hash) ??
      list.find(
        (item) =>
          item.selfValid && item.record.prevHash === (predecessor?.record.hash ?? ZERO_HASH),
      ) ??
      list[0];
    const item = genuine as Item;
    if (!covered(seq)) {
      for (const other of list)
        if (other !== item) flag(other, 'inserted', `a second record claims seq ${seq}`);
      if (!item.selfValid) flag(item, 'modified', `seq ${seq} does not match its hash`);
      else if (
        successor?.selfValid === true &&
        !covered(seq + 1) &&
        successor.record.prevHash !== item.record.hash &&
        !reported.has(successor)
      ) {
        flag(item, 'modified', `seq ${seq} is not the record seq ${seq + 1} links to`);
      } else if (seq === 1 && item.record.prevHash !== ZERO_HASH) {
        flag(item, 'modified', 'seq 1 does not start the chain');
      }
    }
    predecessor = item;
  }

  const lastSeq = sorted.at(-1)?.record.seq ?? 0;
  const sealedThrough = sealed.reduce((max, range) => Math.max(max, range.seq), 0);
  return {
    chain,
    records: items.length,
    checkpoints,
    lastSeq,
    sealedThrough,
    unsealed: sorted.filter((item) => item.record.seq > sealedThrough).length,
  };
}
