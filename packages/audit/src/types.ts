/** How an audited action ended (OWASP: the outcome of the event). */
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Who acted. */
export interface AuditActor {
  readonly id: string;
  /** `user`, `service`, `api-key`... */
  readonly type?: string;
}

/** What was acted on. */
export interface AuditResource {
  /** `note`, `user`, `invoice`... */
  readonly type: string;
  readonly id?: string;
}

/** Where the action came from. */
export interface AuditWhere {
  readonly ip?: string;
  readonly requestId?: string;
  readonly traceId?: string;
  readonly userAgent?: string;
  readonly method?: string;
  /** The route template (`/v1/notes/:id`), never the raw path. */
  readonly route?: string;
}

/** What a caller records; the log adds when, where (from the request context) and the chain. */
export interface AuditEvent {
  /** What happened: `note.update`, `authn_login_fail` (OWASP vocabulary), 1-128 of `A-Za-z0-9_.:/-`. */
  readonly action: string;
  /** Default `success`. */
  readonly outcome?: AuditOutcome;
  /** Default: the request context's actor (`currentContext()?.actor`), else none. */
  readonly actor?: AuditActor | null;
  readonly resource?: AuditResource | null;
  /** Why (a denial's reason, an error code). Up to 1024 characters. */
  readonly reason?: string;
  /** Overrides or adds to what the request context tells (ip, request id, trace id). */
  readonly where?: AuditWhere;
  /** Anything else worth keeping; sensitive keys are redacted, the size is bounded (8 KiB). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** When it happened, if not now (ISO 8601 or a Date). */
  readonly time?: string | Date;
}

/** The application writing the log (OWASP: where). */
export interface AuditApp {
  readonly service: string;
  readonly version?: string;
  readonly host?: string;
}

/** An event as stored: chained, hashed. */
export interface AuditEntry {
  readonly v: 1;
  readonly chain: string;
  readonly seq: number;
  readonly kind: 'event';
  readonly id: string;
  readonly time: string;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly actor: AuditActor | null;
  readonly resource: AuditResource | null;
  readonly reason: string | null;
  readonly where: AuditWhere;
  readonly app: AuditApp | null;
  readonly details: Readonly<Record<string, unknown>> | null;
  /** SHA-256 (hex) of the previous record of the chain (64 zeros for the first). */
  readonly prevHash: string;
  /** SHA-256 (hex) of this record's canonical JSON without `hash`. */
  readonly hash: string;
}

/**
 * A signed checkpoint (after CloudTrail's digest files): the content digests of every record
 * since the previous checkpoint, the previous checkpoint's signature, HMAC-SHA-256-signed.
 */
export interface AuditCheckpoint {
  readonly v: 1;
  readonly chain: string;
  readonly seq: number;
  readonly kind: 'checkpoint';
  readonly time: string;
  /** The first and last seq it covers. */
  readonly from: number;
  readonly to: number;
  /** Content digests (SHA-256 hex of each record without seq, prevHash, hash), in seq order. */
  readonly digests: readonly string[];
  /** The previous checkpoint's signature, null for the first. */
  readonly prevSignature: string | null;
  /** Fingerprint of the signing key (SHA-256 of it, first 16 hex digits). */
  readonly keyId: string;
  /** HMAC-SHA-256 (hex) of the canonical JSON without `signature`, `hash` and `prevHash`. */
  readonly signature: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** A stored record: an event or a checkpoint. */
export type AuditRecord = AuditEntry | AuditCheckpoint;

/** The end of a chain, as a sink reads it (under its lock) before appending. */
export interface ChainTail {
  readonly seq: number;
  readonly hash: string;
  /** The last checkpoint, if any. */
  readonly checkpoint: { readonly seq: number; readonly signature: string } | undefined;
}

/** What a sink gives {@link AuditSink.append}'s builder. */
export interface AppendContext {
  readonly tail: ChainTail | undefined;
  /** The records after the last checkpoint, in seq order (read only when a checkpoint is due). */
  pending(): Promise<readonly AuditRecord[]>;
}

/**
 * Where records go. A sink owns the chain's tail: `append` reads it (under a lock that covers
 * every writer of the chain), lets `build` chain the new records onto it, writes them durably,
 * and returns them. It throws when it cannot (the log turns that into `AUDIT_SINK_FAILED`).
 */
export interface AuditSink {
  readonly name: string;
  append(
    chain: string,
    build: (context: AppendContext) => readonly AuditRecord[] | Promise<readonly AuditRecord[]>,
  ): Promise<readonly AuditRecord[]>;
  /**
   * Every record of a chain, in stored order (for `verify()` and exports), as the documented
   * record objects whatever the storage (the PostgreSQL sink parses its `body` column, the file
   * sink its lines). Not verified: a record changed behind the log's back is given as stored
   * (`verify()` tells); a stored item that is not a record at all (a line cut by a crash) is
   * skipped here and reported by `verify()` as `malformed`.
   */
  read?(chain: string): AsyncIterable<AuditRecord>;
  close?(): Promise<void>;
}

/** What {@link VerifyReport.issues} can say. */
export type AuditIssueKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'malformed'
  | 'bad-checkpoint';

/** One finding of a verification. */
export interface AuditIssue {
  readonly kind: AuditIssueKind;
  readonly chain: string;
  /** The seq of the record concerned (for `deleted`: the missing seq). */
  readonly seq?: number;
  /** Its 0-based position in the input (the line number minus one for a JSON-lines file). */
  readonly position?: number;
  readonly message: string;
}

/** Per chain: what was checked. */
export interface ChainReport {
  readonly chain: string;
  readonly records: number;
  readonly checkpoints: number;
  readonly lastSeq: number;
  /** Every record up to this seq is covered by a valid signed checkpoint. */
  readonly sealedThrough: number;
  /** Records after the last valid checkpoint: checked by the hash chain only. */
  readonly unsealed: number;
}

/** The outcome of a verification. */
export interface VerifyReport {
  /** True when there is no issue. */
  readonly ok: boolean;
  readonly records: number;
  readonly chains: readonly ChainReport[];
  readonly issues: readonly AuditIssue[];
  /** False when checkpoints were read without a key: their signatures were not checked. */
  readonly signaturesChecked: boolean;
}
