// koa-pino-logger 5 ships no types: the slice bench/http-load.ts uses (its options are
// pino-http's).
declare module 'koa-pino-logger' {
  import type { Middleware } from 'koa';
  import type { Logger } from 'pino';

  function koaPinoLogger(options?: { readonly logger?: Logger }): Middleware;
  export default koaPinoLogger;
}
