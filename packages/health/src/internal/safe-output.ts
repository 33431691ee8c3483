const MAX_OUTPUT = 512;
// Any URI with a scheme: connection strings (postgres://user:pw@host/db, redis://:pw@host).
const URI = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]*/gi;
// user:password@host without a scheme.
const CREDENTIALS = /[^\s/@:'"]+:[^\s/@'"]+@(?=[^\s@])/g;
// key=value or key: value pairs whose key names a secret.
const SECRET_PAIR =
  /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|auth|credentials?)(\s*[=:]\s*)("[^"]*"|'[^']*'|(?:bearer\s+)?[^\s,;&]+)/gi;
// Control characters (and DEL) have no place in a JSON probe body shown to humans.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * Makes a check's output safe for the detail view: no connection strings, no
 * credentials, no secrets in key=value form, no control characters, bounded length.
 */
export function safeOutput(text: unknown): string | undefined {
  if (text === undefined || text === null) return undefined;
  let value = typeof text === 'string' ? text : String(text);
  if (value.length > MAX_OUTPUT * 4) value = value.slice(0, MAX_OUTPUT * 4);
  value = value
    .replace(URI, '[redacted-url]')
    .replace(CREDENTIALS, '[redacted]@')
    .replace(SECRET_PAIR, '$1$2[redacted]')
    .replace(CONTROL, ' ');
  if (value.length > MAX_OUTPUT) value = `${value.slice(0, MAX_OUTPUT - 1)}…`;
  return value.length === 0 ? undefined : value;
}

/** The message of anything thrown, scrubbed. */
export function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'object' && thrown !== null) {
    const message = (thrown as { message?: unknown }).message;
    const code = (thrown as { code?: unknown }).code;
    const parts: string[] = [];
    if (typeof code === 'string') parts.push(code);
    if (typeof message === 'string' && message.length > 0) parts.push(message);
    const cause = (thrown as { cause?: unknown }).cause;
    if (parts.length <= 1 && typeof cause === 'object' && cause !== null) {
      const causeCode = (cause as { code?: unknown }).code;
      if (typeof causeCode === 'string') parts.push(causeCode);
    }
    if (parts.length > 0) return safeOutput(parts.join(': ')) ?? 'unknown error';
  }
  return safeOutput(typeof thrown === 'string' ? thrown : 'unknown error') ?? 'unknown error';
}
