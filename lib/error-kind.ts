import { RetrainError, TransientError } from './errors';

/**
 * What an error thrown inside a step says about retrying it:
 * - `domain`: a `RetrainError`, which knows itself whether a retry can help;
 * - `transient`: network, disk or service trouble that can pass with time (retried);
 * - `internal`: a JavaScript programming error not caused by I/O, a bug in Retrain (not retried:
 *   the same input hits the same bug, ten times over minutes);
 * - `other`: any other error, retried as Temporal does by default.
 */
export type ErrorKind = 'domain' | 'transient' | 'internal' | 'other';

/**
 * Node system error codes of trouble that can pass: a peer that is restarting or unreachable, a
 * full disk, too many open files, a busy resource.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EPIPE',
  'EAGAIN',
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EIO',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  // undici (fetch): the connection, the headers or the body did not arrive.
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Error names of timeouts, aborted requests and throttling or unavailable services (AWS SDK and the web platform). */
const TRANSIENT_NAMES = new Set([
  'AbortError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'NetworkingError',
]);

/** The built-in error classes a mistake in JavaScript code throws. */
const PROGRAMMING_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  RangeError,
  TypeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
];
const PROGRAMMING_ERROR_NAMES = new Set(PROGRAMMING_ERRORS.map((c) => c.name));

/** Classifies an error thrown inside a step; see `ErrorKind`. */
export function errorKind(err: unknown): ErrorKind {
  if (err instanceof RetrainError) return 'domain';
  const chain = causeChain(err);
  if (chain.some(isTransientOne)) return 'transient';
  if (isProgrammingError(err) && !chain.some(cameFromIo)) return 'internal';
  return 'other';
}

/** True for an error that can pass with time, judged by itself and by its causes. */
export function isTransient(err: unknown): boolean {
  return causeChain(err).some(isTransientOne);
}

/**
 * The message of an internal error: what was thrown and where, saying it is a bug and is not
 * retried, e.g. `internal error (a bug in Retrain, not retried): RangeError: Maximum call stack
 * size exceeded at splitIndexes (/app/lib/split.ts:28:13)`.
 */
export function internalErrorMessage(err: Error): string {
  const frame = firstStackFrame(err.stack);
  return `internal error (a bug in Retrain, not retried): ${err.name}: ${err.message}${frame ? ` at ${frame}` : ''}`;
}

/** The first "at …" line of a V8 stack trace, without the "at ". */
export function firstStackFrame(stack: string | undefined): string | null {
  const line = stack?.split('\n').find((l) => /^\s+at /.test(l));
  return line ? line.trim().slice(3) : null;
}

/** Which attempt of a step failed, and the most the retry policy allows. */
export interface Attempt {
  /** 1 for the first attempt. */
  number: number;
  /** The retry policy's maximum attempts; null when it sets no limit or is unknown. */
  max: number | null;
  /** No attempt follows this one, even for a retryable failure. */
  last: boolean;
  /** Whether the retry policy was known at all (a worker is told it by recent servers). */
  policyKnown: boolean;
}

/**
 * Says which attempt failed and whether another follows: "attempt 2 of 3: Temporal retries it",
 * "attempt 3 of 3, the last: not retried", "attempt 1 of 3, not retried" (a failure no retry can
 * fix). Without a known limit it does not pretend to know.
 */
export function attemptNote(attempt: Attempt, retryable: boolean): string {
  const which = `attempt ${attempt.number}${attempt.max === null ? '' : ` of ${attempt.max}`}`;
  if (!retryable) return `${which}, not retried`;
  if (attempt.last) return `${which}, the last: not retried`;
  if (attempt.max !== null) return `${which}: Temporal retries it`;
  return attempt.policyKnown
    ? `${which}: Temporal retries it (no attempt limit)`
    : `${which}: Temporal retries it unless this was the last attempt`;
}

/** Adds a note in parentheses at the end of a message's first line: later lines hold a stderr tail or a report. */
export function withNote(message: string, note: string): string {
  const newline = message.indexOf('\n');
  return newline < 0 ? `${message} (${note})` : `${message.slice(0, newline)} (${note})${message.slice(newline)}`;
}

function isProgrammingError(err: unknown): boolean {
  if (PROGRAMMING_ERRORS.some((c) => err instanceof c)) return true;
  // An error from another realm (vm) is no instance of ours, but has the same name.
  const name = (err as { name?: unknown } | null)?.name;
  return err instanceof Error && typeof name === 'string' && PROGRAMMING_ERROR_NAMES.has(name);
}

function isTransientOne(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (!isRecord(err)) return false;
  const { code, name, message } = err;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
  // AWS SDK: the SDK's own verdict, a server fault, a 5xx or a 429.
  if (err.$retryable || err.$fault === 'server') return true;
  const status = isRecord(err.$metadata) ? err.$metadata.httpStatusCode : undefined;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  // undici's fetch throws `TypeError: fetch failed` for every network failure (the reason is its
  // cause), and `TypeError: terminated` when the connection closes mid-body.
  return err instanceof TypeError && (message === 'fetch failed' || message === 'terminated');
}

/** Marks of an error that came from a system call or a service, not from our code. */
function cameFromIo(err: unknown): boolean {
  if (!isRecord(err)) return false;
  return 'syscall' in err || 'errno' in err || '$metadata' in err || '$response' in err;
}

/** The error, its causes and, for an AggregateError, what it aggregates (bounded, cycles cut). */
function causeChain(err: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length && seen.length < 16) {
    const e = queue.shift();
    if (e === undefined || e === null || seen.includes(e)) continue;
    seen.push(e);
    if (isRecord(e)) {
      queue.push(e.cause);
      if (e instanceof AggregateError) queue.push(...e.errors.slice(0, 8));
    }
  }
  return seen;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
