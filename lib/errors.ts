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
  /** A retrain was asked for while a run of the model that reads other data (another asOf) is in progress (client side). */
  RUN_CONFLICT: 'RunConflict',
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
  /** The store did not take a write the HTTP API was asked to acknowledge (down, slow, refused): retry. */
  STORE_UNAVAILABLE: 'StoreUnavailable',
  /**
   * A JavaScript programming error (RangeError, TypeError, …) not caused by I/O: a bug in
   * Retrain, which fails the step once instead of being retried.
   */
  INTERNAL_ERROR: 'InternalError',
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
  ErrorType.INTERNAL_ERROR,
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

/**
 * A retrain cannot join the run in progress: that run reads the data as of another time. Wait
 * for it to end, or cancel it, then ask again.
 */
export class RunConflictError extends RetrainError {
  constructor(message: string, context: ErrorContext) {
    super(ErrorType.RUN_CONFLICT, message, { retryable: false, context });
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

/**
 * A failure that a later attempt may not meet (a network hiccup, a 5xx answer, an object
 * rewritten while it was read, a command that crashed or ran out of time): thrown on purpose so
 * the step is retried. Not a `RetrainError`: there is nothing to branch on but "try again".
 */
export class TransientError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TransientError';
  }
}

/** A zod issue as formatIssues reads it; a union's issue (`invalid_union`) has each alternative's issues in `errors`. */
export interface FormattableIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  /** What an `invalid_type` issue expected: "number", "object"… */
  expected?: unknown;
  errors?: ReadonlyArray<ReadonlyArray<FormattableIssue>>;
}

/**
 * Formats zod issues as "field: problem" lines, naming where the input came from. A value that
 * fits none of a union's alternatives is reported through the alternative it came closest to
 * (`holdout.fraction: expected number`), or, when none is closer than the others, with what
 * each alternative expected.
 */
export function formatIssues(source: string, issues: ReadonlyArray<FormattableIssue>): string {
  const lines = issues.flatMap(expandUnion).map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return `${source} is invalid:\n${lines.join('\n')}`;
}

/** zod's own message for a union none of whose alternatives fits; a union with its own message keeps that. */
const UNION_DEFAULT_MESSAGE = 'Invalid input';

function expandUnion(issue: FormattableIssue): { path: PropertyKey[]; message: string }[] {
  const branches = issue.errors;
  if (issue.code !== 'invalid_union' || !branches?.length || issue.message !== UNION_DEFAULT_MESSAGE) return [issue];
  const within = (i: FormattableIssue) => expandUnion(i).map((x) => ({ path: [...issue.path, ...x.path], message: x.message }));
  // How far a value is from an alternative's shape: a wrong type of the value itself, a missing
  // field or a field the alternative does not have. An alternative with fewer of these is the
  // one that was meant, and its problems are the ones to report.
  const misfits = branches.map(
    (b) => b.filter((i) => i.path.length === 0 || i.code === 'unrecognized_keys' || /received undefined$/.test(i.message)).length,
  );
  const best = Math.min(...misfits);
  const closest = branches.filter((_, n) => misfits[n] === best);
  if (closest.length === 1) return closest[0]!.flatMap(within);
  // The value is of none of the types: say them all (`expected string or number, received null`).
  const types = branches.map((b) =>
    b.length === 1 && b[0]!.path.length === 0 && b[0]!.code === 'invalid_type' ? b[0]!.expected : undefined,
  );
  if (types.every((t) => typeof t === 'string')) {
    const received = /, (received .*)$/.exec(branches[0]![0]!.message)?.[1];
    return [{ path: issue.path, message: `Invalid input: expected ${[...new Set(types)].join(' or ')}${received ? `, ${received}` : ''}` }];
  }
  const described = branches.map((b) =>
    b
      .flatMap(within)
      .map((x) => `${x.path.slice(issue.path.length).map(String).join('.') || '(value)'}: ${x.message}`)
      .join(', '),
  );
  if (new Set(described).size === 1) return branches[0]!.flatMap(within);
  return [{ path: issue.path, message: `fits none of its forms: ${described.map((d, n) => `(${n + 1}) ${d}`).join('; ')}` }];
}
