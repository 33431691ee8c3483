export type {
  BulkItem,
  CloseOptions,
  CloseReport,
  DeadLetters,
  JobNamed,
  ListDeadLettersOptions,
  Queue,
  QueueCheck,
  QueueOptions,
  QueueShutdownHook,
  ShutdownHookOptions,
  WorkOptions,
} from './create-queue.js';
export { createQueue } from './create-queue.js';
export type { DefineJobOptions } from './define-job.js';
export { defineJob } from './define-job.js';
export { QueueErrors } from './errors.js';
export type { MemoryDriverOptions } from './memory-driver.js';
export { memoryDriver } from './memory-driver.js';
export type { Outbox, OutboxMigrationOptions, OutboxOptions, RelayReport } from './outbox.js';
export { createOutbox, outboxMigration, outboxMigrationSql } from './outbox.js';
export type { QueueListing, QueuePartOptions } from './queue-part.js';
export { queuePart } from './queue-part.js';
export type {
  AnyJobDefinition,
  AttemptRecord,
  DeadLetter,
  DeadLetterEvent,
  DeadLetterGrowthEvent,
  EnqueuedJob,
  EnqueueOptions,
  JobContext,
  JobCounts,
  JobDefinition,
  JobHandler,
  JobInfo,
  JobState,
  KeepLimit,
  MetricsRegistryLike,
  PayloadInput,
  PayloadOf,
  PayloadSchema,
  QueueDriver,
  QueueError,
  QueueErrorEvent,
  QueueEvents,
  QueueLogger,
  QueueMetricsTarget,
  QueueWarningEvent,
  RateLimit,
  RetentionOptions,
  RetryEvent,
  Schedule,
  ScheduleOptions,
  SchemaIssue,
  SchemaResult,
  SqlClient,
  SqlQueryable,
  Unsubscribe,
} from './types.js';
