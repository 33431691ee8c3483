/** A monotonic millisecond clock. */
export type Now = () => number;

/** The shared monotonic clock: `performance.now`, immune to wall-clock jumps. */
export const monotonicNow: Now = () => performance.now();
