// autocannon ships no types; this is the slice bench/probe-load.ts uses.
declare module 'autocannon' {
  interface Histogram {
    readonly average: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  }
  interface Result {
    readonly requests: Histogram & { readonly total: number };
    readonly latency: Histogram;
    readonly non2xx: number;
    readonly errors: number;
    readonly timeouts: number;
  }
  interface Options {
    readonly url: string;
    readonly connections?: number;
    readonly overallRate?: number;
    readonly duration?: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
