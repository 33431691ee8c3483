export { enqueuingNotesStore, outboxNotesStore } from './announcing-notes-store.js';
export { API_KEY_FORMAT } from './api-key-format.js';
export type { CachedNotesStoreOptions } from './cached-notes-store.js';
export { cachedNotesStore } from './cached-notes-store.js';
export type { ComposeOptions, Service } from './compose-service.js';
export { composeService } from './compose-service.js';
export type { CorsOrigins, ServiceConfig, ServiceSettings, StoreKind } from './config.js';
export { loadConfig, serviceSchema } from './config.js';
export { encryptedNotesStore, noteBodyAad } from './encrypted-notes-store.js';
export { memoryNotesStore } from './memory-notes-store.js';
export { NOTES_MIGRATIONS } from './migrations.js';
export type { ListOptions, NewNote, Note, NotePatch } from './note.js';
export { MAX_BODY_LENGTH, MAX_SEARCH_LENGTH, MAX_TITLE_LENGTH } from './note.js';
export type { NoteCreatedJob, NoteCreatedJobOptions } from './note-jobs.js';
export { NOTE_CREATED_JOB, noteCreatedJob } from './note-jobs.js';
export { NotesErrors } from './notes-errors.js';
export type { NotesFlagReader, NotesFlags } from './notes-flags.js';
export { NOTES_FLAG_DECLARATIONS } from './notes-flags.js';
export {
  ADDRESS_FACTOR,
  notesWritePolicies,
  notesWriteTiers,
  WRITE_WINDOW_MS,
} from './notes-limits.js';
export type { NotesPartOptions } from './notes-part.js';
export {
  NOTES_API_INFO,
  NOTES_SECURITY_SCHEMES,
  notesPart,
  QUEUES_SCOPE,
  WRITE_SCOPE,
} from './notes-part.js';
export type { NotesStore } from './notes-store.js';
export { openPglite, PGLITE_SETTINGS } from './open-pglite.js';
export type { OpenedStore, OpenStoreOptions } from './open-store.js';
export { openStore } from './open-store.js';
export type { RunningService, StartOptions, StartService } from './run-main.js';
export {
  CONFIGURED_KEY,
  DESCRIBE_CONFIG_FLAG,
  describeEndpoints,
  runMain,
  serverUrl,
  startBanner,
} from './run-main.js';
export type { LentConnection, SerializedClient } from './serialized-client.js';
export { serializedClient } from './serialized-client.js';
export type { ServiceApiKeys, ServiceApiKeysOptions } from './service-api-keys.js';
export { DEMO_KEY_LIFETIME_MS, serviceApiKeys } from './service-api-keys.js';
export type { EphemeralKey, ServiceKeys } from './service-keys.js';
export { serviceKeys } from './service-keys.js';
export { sqlNotesStore } from './sql-notes-store.js';
export type { Tracing, TracingOptions } from './start-tracing.js';
export { startTracing } from './start-tracing.js';
export {
  ListQuery,
  MAX_FIELD_ERRORS,
  NewNoteBody,
  NotePage,
  NotePatchBody,
  NoteSchema,
  parseNewNote,
  parseNotePatch,
  parseSearch,
} from './validate-note.js';
