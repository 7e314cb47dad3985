/**
 * Retrace: a durable integration engine. The public surface, grouped; everything else is internal.
 */

// API keys (for the server)
export type { ApiKeyScope, ApiKeyView, CreateApiKeyInput } from './core/admin/api-keys.js';
export { API_KEY_SCOPES } from './core/admin/api-keys.js';
export type { AuditEntry, AuditListFilter, AuditPage } from './core/admin/audit-log.js';
export { auditCursorAfter } from './core/admin/audit-log.js';
// Instances
export type { AuditOptions, CreateInstanceInput, InstanceView, UpdateInstanceInput } from './core/admin/instances.js';
export { checkEncryptionKey } from './core/admin/secrets.js';
export type { EngineEventName, EngineEvents } from './core/context/events.js';
export { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from './core/context/options.js';
export type { ExecutionHandle, RunOptions } from './core/engine.js';
export { Engine } from './core/engine.js';
export type {
  ErrorDeclaration,
  ErrorDeclarations,
  Flow,
  FlowContext,
  FlowInput,
  FlowOutput,
  InstanceContext,
  Logger,
  NonRepeatableStepOptions,
  RepeatableStepOptions,
  StepContext,
  StepOptions,
  ValidateResult,
  WaitForSignalOptions,
} from './core/flow/flow.js';
// Defining flows
export { defineFlow } from './core/flow/flow.js';
export type { FlowDescription } from './core/flow/flow-description.js';
// Invoking flows (Zato's invoke/retry, durable)
export type {
  FlowInvokeOptions,
  InvocationError,
  InvocationPayload,
  InvokeCallOptions,
  InvokeDeclaration,
  InvokeDeclarations,
  InvokeMode,
  InvokeOptions,
  InvokeResult,
} from './core/flow/invoke.js';
export { INVOKE_MODES } from './core/flow/invoke.js';
export type { RetryPolicy } from './core/flow/retry-policy.js';
export type {
  InvocationAttemptView,
  InvocationList,
  InvocationListFilter,
  InvocationStatus,
  InvocationView,
} from './core/invoke/invocation-view.js';
export { INVOCATION_STATUSES } from './core/invoke/invocation-view.js';
// Finding and replaying failures
export type { ReplayOptions, ReplayPlanItem } from './core/replay/replay.js';
export type { ErrorGroupFilter, ReplayManyOptions } from './core/replay/replay-admin.js';
export type { BatchOptions } from './core/replay/replay-batches.js';
export type {
  BatchItemView,
  BatchView,
  ErrorGroupView,
  ExecutionDiff,
  ReplayPlan,
  StepDiff,
} from './core/replay/replay-view.js';
// Reading executions
export type {
  AttemptView,
  Execution,
  ExecutionList,
  ExecutionListFilter,
  ExecutionSummary,
  LogView,
  SignalView,
  StepView,
} from './core/run/execution-view.js';
export { normalizeErrorMessage } from './core/run/fingerprint.js';
export type { SignalOptions } from './core/run/signals.js';
export type { Clock } from './core/shared/clock.js';
export type { Duration } from './core/shared/duration.js';
export type { ErrorInfo, InputIssue, RetraceErrorCode } from './core/shared/errors.js';
// Errors: the ones user code throws, and the ones Retrace raises (match on `code`)
export {
  ApiKeyNotFoundError,
  BatchNotFoundError,
  DefinitionError,
  ExecutionAlreadyResolvedError,
  ExecutionCancelledError,
  ExecutionFailedError,
  ExecutionNotFoundError,
  FatalError,
  InputValidationError,
  InvalidOptionError,
  InvocationNotFoundError,
  InvokeFailedError,
  isStoreUnavailable,
  isStoreWriteRefused,
  LeaseLostError,
  NonDeterminismError,
  PayloadTooLargeError,
  RetraceError,
  RetryableError,
  ScheduleNotFoundError,
  SignalRejectedError,
  StepFailedError,
  StepTimeoutError,
  StoreBusyError,
  StoreUnavailableError,
  StoreWriteRefusedError,
  SystemUnavailableError,
  UnknownFlowError,
  UnknownInstanceError,
  UnknownSystemError,
  UnsafeFilesystemError,
  WebhookDeliveryNotFoundError,
  WebhookRejectedError,
} from './core/shared/errors.js';
export type { ExecutionStatus, StepStatus } from './core/shared/states.js';
// Stores
export type {
  BatchCounts,
  BatchStatus,
  InvokedBy,
  MissedFirePolicy,
  StepKind,
  Store,
  WebhookOutcome,
} from './core/store/store.js';
// Outage mode: end systems, their circuits and the executions parked at them
export type {
  FailureRateOptions,
  ParkedPage,
  ParkedView,
  ReplayFailedOptions,
  ResumeResult,
  ResumeSystemOptions,
  SystemActionOptions,
  SystemHealthCheck,
  SystemOptions,
  SystemPolicyView,
  SystemState,
  SystemView,
} from './core/systems/system-view.js';
// Schedules
export type { CreateScheduleInput, ScheduleView, UpdateScheduleInput } from './core/triggers/schedules.js';
// Webhooks: deliveries recorded whole, then run; Standard Webhooks signatures
export { DEFAULT_SIGNATURE_TOLERANCE_MS, signatureHeaders } from './core/triggers/webhook-signature.js';
export type {
  ReceiveWebhookInput,
  RedeliverOptions,
  RefuseWebhookInput,
  WebhookAccepted,
  WebhookDeliveryList,
  WebhookDeliveryView,
} from './core/triggers/webhooks.js';
export { WEBHOOK_SECRET_NAME } from './core/triggers/webhooks.js';
export type { CreateEngineOptions } from './create-engine.js';
// Running them
export { createEngine } from './create-engine.js';
export { openStore } from './stores/open-store.js';
export type { PostgresStoreOptions } from './stores/postgres/postgres-store.js';
export { PostgresStore } from './stores/postgres/postgres-store.js';
export type { SqliteStoreOptions } from './stores/sqlite/sqlite-store.js';
export { SqliteStore } from './stores/sqlite/sqlite-store.js';
/** The SQLite store on its own worker thread: what a store path or `sqlite:` URL opens (docs/durability.md). */
export { ThreadedSqliteStore } from './stores/sqlite/thread/threaded-store.js';
