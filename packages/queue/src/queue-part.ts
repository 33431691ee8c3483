import {
  CoreErrors,
  definePart,
  type HttpRequest,
  type HttpResponse,
  isThenable,
  type MaybePromise,
  optionChecks,
  type Part,
} from '@prod/core';
import type { Queue } from './create-queue.js';
import { QueueErrors } from './errors.js';
import type { AnyJobDefinition, JobCounts } from './types.js';

/** Options of {@link queuePart}. */
export interface QueuePartOptions {
  /** Path of the listing. Default `/queues`. */
  readonly path?: string;
  /** Dead letters listed per job name, newest first. Default 10 (0 for none). */
  readonly recentFailures?: number;
  /**
   * Whether failures show their error message (which may hold user data). Default false: the
   * code, attempts and time only.
   */
  readonly includeMessages?: boolean;
  /**
   * Who may read the listing: a predicate on the request (`bearerToken(...)` of @prod/health
   * fits). Refused requests get `403 FORBIDDEN`. Default: anyone who reaches the route (mount
   * it behind your auth part, or on an internal port).
   */
  readonly authorize?: (request: HttpRequest) => MaybePromise<boolean>;
}

/** One job name in the listing. */
export interface QueueListing {
  readonly name: string;
  readonly counts: JobCounts;
  readonly recentFailures: ReadonlyArray<{
    readonly id: string;
    readonly code: string;
    readonly attempts: number;
    readonly failedAt: string | undefined;
    readonly message?: string;
  }>;
}

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);

/**
 * A neutral `Part` with one JSON route listing the queue's job names, their counts by state
 * and their most recent dead letters: `GET /queues` answers
 * `{ queues: [{ name, counts, recentFailures }] }` with `cache-control: no-store`, or `503
 * QUEUE_UNAVAILABLE` when the engine does not answer.
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * declare const queue: Queue;
 * const part = queuePart(queue, { path: '/internal/queues', recentFailures: 5 });
 */
export function queuePart<TJob extends AnyJobDefinition>(
  queue: Queue<TJob>,
  options: QueuePartOptions = {},
): Part {
  if (typeof queue?.counts !== 'function' || typeof queue.deadLetters?.list !== 'function') {
    check.fail('queue', 'a queue made by createQueue', queue);
  }
  const given = check.object<QueuePartOptions>('options', options);
  const path = check.string('path', given.path, '/queues', { nonEmpty: true });
  if (!path.startsWith('/')) check.fail('path', 'a path starting with "/"', path);
  const recent = check.integer('recentFailures', given.recentFailures, 10, { max: 100 });
  const includeMessages = check.boolean('includeMessages', given.includeMessages, false);
  const authorize = check.fn<(request: HttpRequest) => MaybePromise<boolean>>(
    'authorize',
    given.authorize,
  );

  const listing = async (): Promise<HttpResponse> => {
    const counts = await queue.counts();
    if (!counts.ok) throw counts.error;
    const queues: QueueListing[] = [];
    for (const job of queue.jobs) {
      let failures: QueueListing['recentFailures'] = [];
      if (recent > 0) {
        const dead = await queue.deadLetters.list({ job: job.name, limit: recent });
        if (!dead.ok) throw dead.error;
        failures = dead.value.map((letter) => ({
          id: letter.id,
          code: letter.error.code,
          attempts: letter.attemptsMade,
          failedAt: letter.finishedAt,
          ...(includeMessages ? { message: letter.error.message } : {}),
        }));
      }
      queues.push({
        name: job.name,
        counts: (counts.value as Record<string, JobCounts>)[job.name] as JobCounts,
        recentFailures: failures,
      });
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: { queues },
    };
  };

  return definePart({
    name: '@prod/queue',
    routes: [
      {
        method: 'GET',
        path,
        handler: (request) => {
          if (authorize === undefined) return listing();
          const allowed = authorize(request);
          const decide = (yes: boolean): Promise<HttpResponse> => {
            if (yes !== true)
              throw CoreErrors.FORBIDDEN({ message: 'not allowed to read the queues' });
            return listing();
          };
          return isThenable(allowed) ? Promise.resolve(allowed).then(decide) : decide(allowed);
        },
      },
    ],
  });
}
