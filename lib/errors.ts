/**
 * Typed errors of the domain. Each carries the context a person needs to act on it
 * (model, version, step) and says whether a retry can fix it.
 */
/**
 * The error types a caller can branch on: each is also the Temporal failure type of the error
 * (`ApplicationFailure.type`). Declared once; workflows, activities and the CLI import them.
 */
export const ErrorType = {
  /** A pipeline definition, CLI flag, signal, workflow input or config value is wrong. */
  INVALID_INPUT: 'InvalidInput',
  /** The dataset failed validation. */
  INVALID_DATASET: 'InvalidDataset',
  /** The training or predict command broke its contract (bad result.json, wrong row count…). */
  TRAINING_CONTRACT_VIOLATION: 'TrainingContractViolation',
  /** The training or predict command rejected its input (exit 2). */
  TRAINING_BAD_INPUT: 'TrainingBadInput',
  /** The champion pointer is not what the step expected: someone else promoted or rolled back. */
  REGISTRY_CONFLICT: 'RegistryConflict',
  /** A version, pipeline, profile or artefact that was asked for does not exist. */
  NOT_FOUND: 'NotFound',
  /** The alert webhook refused the alert (4xx other than 429). */
  ALERT_REJECTED: 'AlertRejected',
  /** The store's bucket or credentials are wrong (store/). */
  STORE_MISCONFIGURED: 'StoreMisconfigured',
  /** Verification after promotion failed and the previous champion was restored. */
  PROMOTION_ROLLED_BACK: 'PromotionRolledBack',
  /** The Temporal frontend could not be reached (client side). */
  SERVER_UNREACHABLE: 'ServerUnreachable',
  /** The worker could not serve Prometheus metrics on RETRAIN_METRICS_ADDRESS. */
  METRICS_UNAVAILABLE: 'MetricsUnavailable',
  /** The prediction logger's buffer is full while the store fails: new lines are dropped. */
  PREDICTION_LOG_BUFFER_FULL: 'PredictionLogBufferFull',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * Error types that retrying the same input cannot fix: every workflow passes this list to its
 * activities' retry policy (the activities also mark these failures non-retryable themselves).
 */
export const NON_RETRYABLE: ErrorType[] = [
  ErrorType.INVALID_INPUT,
  ErrorType.INVALID_DATASET,
  ErrorType.TRAINING_CONTRACT_VIOLATION,
  ErrorType.TRAINING_BAD_INPUT,
  ErrorType.REGISTRY_CONFLICT,
  ErrorType.NOT_FOUND,
  ErrorType.ALERT_REJECTED,
  ErrorType.STORE_MISCONFIGURED,
];

/** Where an error happened, for the person who reads it: model, version, step and more. */
export interface ErrorContext {
  model?: string;
  version?: string;
  step?: string;
  [key: string]: unknown;
}

/** The base of Retrain's domain errors: a type to branch on, retryability, context and details. */
export class RetrainError extends Error {
  /** A stable name a caller can branch on; also the Temporal failure type. */
  readonly type: ErrorType;
  /** False for bad input: retrying the same input fails the same way. */
  readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly details: unknown;

  constructor(
    type: ErrorType,
    message: string,
    opts: { retryable?: boolean; context?: ErrorContext; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = type;
    this.type = type;
    this.retryable = opts.retryable ?? false;
    this.context = opts.context ?? {};
    this.details = opts.details;
  }
}

/** A pipeline definition, CLI flag, signal or config value is wrong. Never retried. */
export class InvalidInputError extends RetrainError {
  constructor(message: string, context: ErrorContext = {}, details?: unknown) {
    super(ErrorType.INVALID_INPUT, message, { retryable: false, context, details });
  }
}

/** The dataset failed validation; `details` holds the full validation report. */
export class InvalidDatasetError extends RetrainError {
  constructor(message: string, context: ErrorContext, report: unknown) {
    super(ErrorType.INVALID_DATASET, message, { retryable: false, context, details: report });
  }
}

/** The training or predict command broke the contract or rejected its input. */
export class TrainingContractError extends RetrainError {
  constructor(message: string, context: ErrorContext, retryable = false) {
    super(ErrorType.TRAINING_CONTRACT_VIOLATION, message, { retryable, context });
  }
}

/** The registry pointer changed under us: someone else promoted or rolled back first. */
export class RegistryConflictError extends RetrainError {
  constructor(message: string, context: ErrorContext) {
    super(ErrorType.REGISTRY_CONFLICT, message, { retryable: false, context });
  }
}

/** A version, pipeline or artefact that was asked for does not exist. */
export class NotFoundError extends RetrainError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorType.NOT_FOUND, message, { retryable: false, context });
  }
}

/** The training or predict command exited 2: it rejected its input, and a retry would too. */
export class TrainingBadInputError extends RetrainError {
  constructor(message: string, context: ErrorContext) {
    super(ErrorType.TRAINING_BAD_INPUT, message, { retryable: false, context });
  }
}

/** The alert webhook answered with a 4xx: the alert itself is wrong, so resending it cannot help. */
export class AlertRejectedError extends RetrainError {
  constructor(message: string, context: ErrorContext) {
    super(ErrorType.ALERT_REJECTED, message, { retryable: false, context });
  }
}

/** Formats zod issues as "field: problem" lines, naming where the input came from. */
export function formatIssues(source: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const lines = issues.map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return `${source} is invalid:\n${lines.join('\n')}`;
}
