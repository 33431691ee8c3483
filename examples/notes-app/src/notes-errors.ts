import { defineErrors } from '@prod/core';

/**
 * The error codes of the notes service, beside the @prod/core ones it reuses
 * (`VALIDATION_FAILED`, `MALFORMED_JSON`, `FORBIDDEN_KEY`, `PAYLOAD_TOO_LARGE`, `UNAVAILABLE`)
 * and @prod/config's `CONFIG_INVALID` for a bad configuration.
 */
export const NotesErrors = defineErrors({
  NOTE_NOT_FOUND: { status: 404, title: 'Note not found' },
  // A server-side problem (a key removed too early, a changed row): nothing the caller can fix.
  NOTE_BODY_UNREADABLE: { status: 500, title: 'Note unreadable' },
});
