/** A stored note, as the API answers it. */
export interface Note {
  /** A UUID chosen by the service. */
  readonly id: string;
  readonly title: string;
  readonly body: string;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  /** ISO 8601, UTC; equals `createdAt` until the first change. */
  readonly updatedAt: string;
}

/** What `POST /v1/notes` accepts, once validated. */
export interface NewNote {
  readonly title: string;
  readonly body: string;
}

/** What `PATCH /v1/notes/:id` accepts, once validated: at least one field. */
export interface NotePatch {
  readonly title?: string;
  readonly body?: string;
}

/** Paging and search of `GET /v1/notes`. */
export interface ListOptions {
  /** 1 to 100. */
  readonly limit: number;
  /** 0 or more. */
  readonly offset: number;
  /**
   * Only notes whose title contains this text, ignoring case (1-200 characters after trimming;
   * `%` and `_` are plain characters). Read only while the `notes.search` flag is on. Titles
   * only: bodies are encrypted at rest, and a ciphertext has nothing to search.
   */
  readonly q?: string;
}

/** Longest title, in UTF-16 code units. */
export const MAX_TITLE_LENGTH = 200;
/** Longest body, in UTF-16 code units. */
export const MAX_BODY_LENGTH = 10_000;
/** Longest search text (`?q=`), in UTF-16 code units. */
export const MAX_SEARCH_LENGTH = 200;
