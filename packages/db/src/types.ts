// Public types used across files (internal helpers import them from here).

/** One difference between the schema the migrations produce and the live one. */
export interface SchemaDifference {
  /** `relation`, `column`, `constraint`, `index`, `view`, `function`, `trigger` or `type`. */
  readonly object: string;
  /** `notes`, `notes.title`, `notes.notes_pkey`... */
  readonly name: string;
  /** `missing`: the migrations create it, the live schema lacks it; `unexpected`: the other way; `changed`: both, differently. */
  readonly change: 'missing' | 'unexpected' | 'changed';
  /** What the migrations produce. */
  readonly expected?: string;
  /** What the live schema has. */
  readonly actual?: string;
}

/** One statement of a SQL file. */
export interface SqlStatement {
  /** 1-based position in the file. */
  readonly index: number;
  /** The statement text, without the leading comments and the trailing semicolon. */
  readonly text: string;
  /** Character offset of its first token in the file. */
  readonly offset: number;
  /** 1-based line and column of its first token in the file. */
  readonly line: number;
  readonly column: number;
  /** The parse node's type (`CreateStmt`, `IndexStmt`, `SelectStmt`...). */
  readonly node: string;
  /** Why it cannot run in a transaction block, when it cannot (e.g. `CREATE INDEX CONCURRENTLY`). */
  readonly outsideTransaction: string | undefined;
  /** `BEGIN`, `COMMIT`, `ROLLBACK`...: transaction control, which a migration must not contain. */
  readonly transactionControl: boolean;
  /** For `CREATE INDEX CONCURRENTLY name`: the index it builds (to clean up an invalid one). */
  readonly concurrentIndex:
    | { readonly schema: string | undefined; readonly name: string }
    | undefined;
}

/** What the histogram needs of a registry: prom-client's `Registry` fits (so @prod/metrics' `createMetrics().registry`). */
export interface MetricsRegistryLike {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}
