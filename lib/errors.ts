/**
 * Typed errors of the domain. Each carries the context a person needs to act on it
 * (model, version, step) and says whether a retry can fix it.
 */
export interface ErrorContext {
  model?: string;
  version?: string;
  step?: string;
  [key: string]: unknown;
}

export class RetrainError extends Error {
  /** A stable name a caller can branch on; also the Temporal failure type. */
  readonly type: string;
  /** False for bad input: retrying the same input fails the same way. */
  readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly details: unknown;

  constructor(type: string, message: string, opts: { retryable?: boolean; context?: ErrorContext; details?: unknown } = {}) {
    super(message);
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
    super('InvalidInput', message, { retryable: false, context, details });
  }
}

/** The dataset failed validation; `details` holds the full validation report. */
export class InvalidDatasetError extends RetrainError {
  constructor(message: string, context: ErrorContext, report: unknown) {
    super('InvalidDataset', message, { retryable: false, context, details: report });
  }
}

/** The training or predict command broke the contract or rejected its input. */
export class TrainingContractError extends RetrainError {
  constructor(message: string, context: ErrorContext, retryable = false) {
    super('TrainingContractViolation', message, { retryable, context });
  }
}

/** The registry pointer changed under us: someone else promoted or rolled back first. */
export class RegistryConflictError extends RetrainError {
  constructor(message: string, context: ErrorContext) {
    super('RegistryConflict', message, { retryable: false, context });
  }
}

/** A version, pipeline or artefact that was asked for does not exist. */
export class NotFoundError extends RetrainError {
  constructor(message: string, context: ErrorContext = {}) {
    super('NotFound', message, { retryable: false, context });
  }
}

/** Formats zod issues as "field: problem" lines, naming where the input came from. */
export function formatIssues(source: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const lines = issues.map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return `${source} is invalid:\n${lines.join('\n')}`;
}
