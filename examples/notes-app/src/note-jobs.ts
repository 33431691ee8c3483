import { err, ok } from '@prod/core';
import type { Logger } from '@prod/logger';
import { defineJob } from '@prod/queue';
import { z } from 'zod';
import type { NotesStore } from './notes-store.js';

/** The name of the job every created note enqueues. */
export const NOTE_CREATED_JOB = 'notes.created';

/** What {@link noteCreatedJob} works with. */
export interface NoteCreatedJobOptions {
  /** Where the handler looks the note up: the store below encryption and cache. */
  readonly store: NotesStore;
  /** Its lines go to module `jobs`, with the job's id as their request id. */
  readonly logger: Logger;
}

/**
 * The background job of a created note (@prod/queue): `{ id }`, enqueued by the store in the
 * same transaction as the note on PGlite and PostgreSQL (the outbox), right after it in memory.
 * Its handler is where a service would index the note or call a webhook; here it reads the note
 * back and logs `note announced` (or, for a note deleted meanwhile, that there was nothing to
 * do). It is idempotent by note id, as an at-least-once job must be.
 *
 * A store that does not answer is a retryable error (`UNAVAILABLE`): up to 5 retries with
 * jittered exponential backoff, then a dead letter, listed by `GET /v1/queues`.
 */
export function noteCreatedJob(options: NoteCreatedJobOptions) {
  const log = options.logger.module('jobs');
  return defineJob({
    name: NOTE_CREATED_JOB,
    schema: z.object({ id: z.uuid() }),
    retries: 5,
    timeout: 10_000,
    concurrency: 4,
    handler: async ({ id }, { attempt }) => {
      const found = await options.store.get(id);
      if (!found.ok) return err(found.error);
      if (found.value === undefined) {
        log.info({ noteId: id, attempt }, 'note deleted before its job ran: nothing to announce');
        return ok({ announced: false });
      }
      log.info({ noteId: id, attempt }, 'note announced');
      return ok({ announced: true });
    },
  });
}

/** The job definition {@link noteCreatedJob} makes. */
export type NoteCreatedJob = ReturnType<typeof noteCreatedJob>;
