// A request's line is written within a millisecond of the previous one more often than not
// under load: format the date once per millisecond instead of once per line.
let lastMillis = Number.NaN;
let lastFragment = '';

/**
 * pino's `isoTime` (`,"time":"2024-01-01T00:00:00.000Z"`), formatted once per millisecond of
 * `Date.now()`.
 */
export function isoTime(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastFragment = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastFragment;
}
