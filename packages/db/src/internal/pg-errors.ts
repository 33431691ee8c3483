/** The fields PostgreSQL puts on an error (pg's DatabaseError, PGlite's DatabaseError). */
export interface ServerErrorFields {
  readonly code?: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string | number;
  readonly where?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
]);

const CONNECTION_MESSAGES =
  /Connection terminated|connection error|not queryable|Client was closed|timeout exceeded when trying to connect|Connection ended|server closed the connection/i;

/** The error's SQLSTATE (five characters) when the server sent one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether the connection itself failed (refused, reset, terminated by an administrator, the
 * server shutting down), as opposed to a statement failing on a healthy connection.
 */
export function isConnectionError(error: unknown): boolean {
  const state = sqlState(error);
  // 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now,
  // class 08 connection exceptions.
  if (state !== undefined) return state.startsWith('08') || /^57P0[1-3]$/.test(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return CONNECTION_MESSAGES.test(message);
}

/** The server's fields of an error, or its message alone. */
export function serverFields(error: unknown): ServerErrorFields {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const e = error as Record<string, unknown>;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  const fields: {
    code?: string;
    message: string;
    detail?: string;
    hint?: string;
    position?: string | number;
    where?: string;
  } = { message: text(e.message) ?? String(error) };
  const code = sqlState(error);
  if (code !== undefined) fields.code = code;
  const detail = text(e.detail);
  if (detail !== undefined) fields.detail = detail;
  const hint = text(e.hint);
  if (hint !== undefined) fields.hint = hint;
  if (typeof e.position === 'string' || typeof e.position === 'number')
    fields.position = e.position;
  const where = text(e.where);
  if (where !== undefined) fields.where = where;
  return fields;
}

/** Lock timeout (55P03), statement timeout (57014) or a deadlock (40P01). */
export function isLockTimeout(error: unknown): boolean {
  return sqlState(error) === '55P03';
}
