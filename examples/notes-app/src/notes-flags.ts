import { type FlagContext, type Flags, flag } from '@prod/config';

/**
 * The feature flags of the notes service, declared in code with their safe defaults. Who gets
 * what is data: `NOTES_FLAGS` (JSON), the runtime file, or the Redis flag store.
 *
 * | flag | default | gates |
 * | --- | --- | --- |
 * | `notes.search` | off | `GET /v1/notes?q=`: filter titles and bodies (off: `q` is ignored) |
 */
export const NOTES_FLAG_DECLARATIONS = {
  'notes.search': flag.boolean(false, { description: 'filter GET /v1/notes with ?q=' }),
} as const;

/** The flags of the notes service, as `composeService` creates them. */
export type NotesFlags = Flags<typeof NOTES_FLAG_DECLARATIONS>;

/** What the notes part asks of the flags: one boolean, for one caller. */
export interface NotesFlagReader {
  isEnabled(key: 'notes.search', context?: FlagContext): boolean;
}
