import type { PredictionLogger } from './prediction-logger';

/** Longest a SIGTERM/SIGINT waits for the flush before the process ends anyway, milliseconds. */
const SIGNAL_FLUSH_TIMEOUT_MS = 10_000;
/** Flush attempts when the event loop empties, before the remaining lines are reported lost. */
const BEFORE_EXIT_ATTEMPTS = 3;

const loggers = new Set<PredictionLogger>();
let flushingForSignal = false;
let beforeExitAttempts = 0;

const onSigterm = () => onSignal('SIGTERM');
const onSigint = () => onSignal('SIGINT');

/**
 * Flushes `logger` before the process ends, so no logged line is lost on shutdown:
 * - when the event loop empties (`beforeExit`): up to 3 attempts, with a short back-off;
 * - on SIGTERM and SIGINT: flushes (waiting at most 10 s), then, when no other listener handles
 *   the signal, re-raises it so the process ends as the signal intends (exit by signal). When the
 *   application has its own listener, the process is left to it. A second signal during the
 *   flush ends the process at once.
 *
 * `process.exit()` cannot wait for a write: call `await logger.close()` before it. Lines that
 * could not be written are reported on stderr. Returns a function that unhooks the logger.
 *
 * @example
 * ```ts
 * const logger = createPredictionLogger({ store, model: 'churn', version });
 * flushOnExit(logger);
 * ```
 */
export function flushOnExit(logger: PredictionLogger): () => void {
  if (loggers.size === 0) install();
  loggers.add(logger);
  return () => {
    loggers.delete(logger);
    if (loggers.size === 0) uninstall();
  };
}

function install(): void {
  process.on('beforeExit', onBeforeExit);
  process.on('SIGTERM', onSigterm);
  process.on('SIGINT', onSigint);
}

function uninstall(): void {
  process.off('beforeExit', onBeforeExit);
  process.off('SIGTERM', onSigterm);
  process.off('SIGINT', onSigint);
}

function onBeforeExit(): void {
  const waiting = [...loggers].filter((l) => l.buffered > 0);
  if (waiting.length === 0) {
    beforeExitAttempts = 0;
    return;
  }
  if (beforeExitAttempts >= BEFORE_EXIT_ATTEMPTS) {
    reportUnwritten('when the process ended');
    return;
  }
  const delayMs = beforeExitAttempts === 0 ? 0 : 100 * 2 ** beforeExitAttempts;
  beforeExitAttempts++;
  // Scheduling work keeps the process alive; beforeExit fires again once it is done.
  setTimeout(() => void Promise.allSettled(waiting.map((l) => l.flush())), delayMs);
}

function onSignal(signal: NodeJS.Signals): void {
  if (flushingForSignal) return reraise(signal);
  flushingForSignal = true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, SIGNAL_FLUSH_TIMEOUT_MS)));
  const flushed = Promise.allSettled([...loggers].map((l) => l.flush()));
  void Promise.race([flushed, timedOut]).then(() => {
    clearTimeout(timer);
    flushingForSignal = false;
    reportUnwritten(`on ${signal}`);
    // Ours is the only listener: end the process as the signal would have without us.
    if (process.listenerCount(signal) === 1) reraise(signal);
  });
}

function reraise(signal: NodeJS.Signals): void {
  uninstall();
  loggers.clear();
  process.kill(process.pid, signal);
}

function reportUnwritten(when: string): void {
  for (const logger of loggers) {
    if (logger.buffered > 0)
      process.stderr.write(`prediction logger (${logger.model}): ${logger.buffered} lines could not be written ${when}\n`);
  }
}
