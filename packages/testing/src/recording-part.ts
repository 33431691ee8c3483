import {
  currentContext,
  definePart,
  type HttpRequest,
  type Part,
  type ResponseInfo,
} from '@prod/core';

/** What a {@link recordingPart} saw of one finished request. */
export interface RecordedResponse {
  readonly requestId: string | undefined;
  readonly method: string;
  readonly path: string;
  /** The route template `onResponse` read. */
  readonly route: string | undefined;
  readonly info: ResponseInfo;
}

/** A part that records every finished request, for tests of adapters and parts. */
export interface RecordingPart {
  readonly part: Part;
  /** The finished requests, in the order their `onResponse` ran. */
  readonly responses: readonly RecordedResponse[];
  /** Resolves once `count` requests have finished (their `onResponse` ran). */
  settled(count: number): Promise<readonly RecordedResponse[]>;
  /** Resolves with the request whose request id is `requestId`, once it has finished. */
  finished(requestId: string): Promise<RecordedResponse>;
}

/**
 * A part whose `onResponse` records each request (id, method, path, route template, status,
 * duration, error), so a test can wait for a request to finish and check what the metrics,
 * logs and spans of a real part would see.
 *
 * @example
 * import { mountExpress } from '@prod/express';
 * import express from 'express';
 * import { expect } from 'vitest';
 * declare const notesPart: Part;
 * const app = express();
 * const url = (await listen(app)).url;
 * const recorder = recordingPart();
 * mountExpress(app, { parts: [recorder.part, notesPart] });
 * await fetch(`${url}/notes/1`);
 * const [seen] = await recorder.settled(1);
 * expect(seen?.route).toBe('/notes/:id');
 */
export function recordingPart(name = 'recorder'): RecordingPart {
  const responses: RecordedResponse[] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  const until = <TValue>(ready: () => TValue | undefined): Promise<TValue> =>
    new Promise((resolve) => {
      const check = (): void => {
        const value = ready();
        if (value === undefined) return;
        waiters.delete(check);
        resolve(value);
      };
      waiters.add(check);
      check();
    });
  const part = definePart({
    name,
    onResponse(request: HttpRequest, info: ResponseInfo) {
      responses.push({
        requestId: currentContext()?.requestId,
        method: request.method,
        path: request.path,
        route: request.route,
        info,
      });
      wake();
    },
  });
  return {
    part,
    responses,
    settled: (count) => until(() => (responses.length >= count ? responses.slice() : undefined)),
    finished: (requestId) => until(() => responses.find((seen) => seen.requestId === requestId)),
  };
}
