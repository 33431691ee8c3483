import type { ServerResponse } from 'node:http';
import type { Exchange } from '@prod/core/adapter';

type WriteHead = (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse;

/**
 * Lets the parts' `onSend` change the headers of a response your own Express route sends:
 * Node writes the head of every response through `writeHead` (explicitly, or implicitly on
 * the first write), so this request's `writeHead` runs `onSend` once just before.
 */
export function decorateNative<TTarget>(res: ServerResponse, exchange: Exchange<TTarget>): void {
  const target = res as unknown as { writeHead: WriteHead };
  const writeHead = target.writeHead;
  target.writeHead = function writeDecoratedHead(status, ...rest) {
    target.writeHead = writeHead;
    if (!exchange.answered) {
      // Headers given to writeHead win over setHeader: fold them in first, so onSend sees them.
      const last = rest[rest.length - 1];
      if (typeof last === 'object' && last !== null && !Array.isArray(last)) {
        for (const [name, value] of Object.entries(last)) {
          if (value !== undefined) this.setHeader(name, value as string | string[]);
        }
        rest.pop();
      }
      exchange.decorate(status, this.getHeaders());
    }
    return writeHead.call(this, status, ...rest);
  };
}
