import { randomUUID } from 'node:crypto';
import { ErrorType, InvalidInputError, RetrainError } from '../lib/errors';
import { keys } from '../lib/keys';
import { isoHour, validatePredictionLine, type PredictionLine } from '../lib/prediction-log';
import type { Store } from '../store/store';

/** The error type `onError` gets when lines start being dropped (the buffer is full). */
export const BUFFER_FULL = ErrorType.PREDICTION_LOG_BUFFER_FULL;

/** What an application logs per prediction; the logger adds model and version, and id and timestamp when missing. */
export type PredictionEntry = Omit<PredictionLine, 'id' | 'timestamp' | 'model' | 'version'> & {
  /**
   * Return it to your caller: `retrain explain <id>` finds the decision by it.
   * @default a random UUID
   */
  id?: string;
  /** When the prediction was made. @default now */
  timestamp?: string | Date;
};

/** Options of `createPredictionLogger`; defaults are given per field. */
export interface PredictionLoggerOptions {
  store: Store;
  /** The model's pipeline name. */
  model: string;
  /** The model version this process serves (the registry's champion when it loaded). */
  version: string;
  /**
   * Lines per batch file; a full buffer is written at once.
   * @default 500
   */
  maxBatch?: number;
  /**
   * Longest a logged line waits in the buffer before it is written, in milliseconds.
   * @default 5000
   */
  flushIntervalMs?: number;
  /**
   * Most lines kept in memory while the store cannot be written (an outage): beyond it, new
   * lines are dropped and counted (`dropped`) rather than the serving process running out of
   * memory (100,000 lines are a few tens of MB).
   * @default 100000
   */
  maxBufferedLines?: number;
  /**
   * Called on every failed write (also when `flush()` rejects), with the lines still kept for
   * the next flush, and once when lines start being dropped.
   * @default a line on stderr
   */
  onError?: (err: Error, info: { model: string; buffered: number; dropped: number }) => void;
}

/** Logs predictions in batches to the store; `flush()` writes what is buffered. */
export interface PredictionLogger {
  /**
   * Validates and buffers one prediction; returns the line as it will be stored (with its id).
   * Throws an `InvalidInput` error naming the field when the entry is malformed, and after `close()`.
   */
  logPrediction(entry: PredictionEntry): PredictionLine;
  /** Writes everything buffered. Rejects when a write fails; the lines stay for the next flush. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; `logPrediction` throws afterwards (`flush` still works). */
  close(): Promise<void>;
  /** Lines logged and not yet written. */
  readonly buffered: number;
  /** Lines dropped because the buffer was full (`maxBufferedLines`) since the logger started. */
  readonly dropped: number;
  readonly model: string;
}

interface Batch {
  hour: string;
  key: string;
  body: string;
  lines: number;
}

/**
 * The prediction log writer for applications that serve a model. Lines are buffered and
 * written in batches of at most `maxBatch` lines, at the latest `flushIntervalMs` after they
 * were logged. Each batch is one JSON-lines object under
 * `predictions/<model>/<YYYY-MM-DD>/<HH>/<batchId>.jsonl`, created once with `putIfAbsent`
 * (never half-written, never overwritten). A batch holds lines of one UTC hour only, the hour
 * of its key, so a reader of a time window lists only that window's hours. A failed write
 * keeps its lines and is retried on the next flush, under the same key, so a write that
 * reported failure but did land is not written twice.
 *
 * @example
 * ```ts
 * import { createPredictionLogger, flushOnExit, LocalStore } from 'retrain/serving';
 *
 * const logger = createPredictionLogger({ store: new LocalStore('/var/retrain/store'), model: 'churn', version: 'v1dba9190025c' });
 * flushOnExit(logger); // SIGTERM, SIGINT, or the end of the event loop: nothing buffered is lost
 *
 * const started = performance.now();
 * const score = model.predictProba(features);
 * const { id } = logger.logPrediction({
 *   features,                                   // { tenure_months: 3, plan: 'basic' }
 *   prediction: score >= 0.5 ? 'yes' : 'no',
 *   score,
 *   latencyMs: performance.now() - started,
 *   cost: 0.0002,
 * });
 * return { churn: score, predictionId: id };   // `retrain explain <id>` says why
 * ```
 */
export function createPredictionLogger(options: PredictionLoggerOptions): PredictionLogger {
  const { store, model, version, maxBatch = 500, flushIntervalMs = 5000, maxBufferedLines = 100_000 } = options;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidInputError(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!Number.isInteger(maxBufferedLines) || maxBufferedLines < maxBatch) {
    throw new InvalidInputError(`maxBufferedLines must be an integer of at least maxBatch (${maxBatch}), got ${maxBufferedLines}`);
  }
  if (!(flushIntervalMs > 0)) throw new InvalidInputError(`flushIntervalMs must be positive, got ${flushIntervalMs}`);
  // The model name is a segment of every key: it must not add or climb folders.
  if (!model || model.includes('/') || model === '.' || model === '..')
    throw new InvalidInputError(`model must be a pipeline name, got "${model}"`);
  const report =
    options.onError ??
    ((err, info) =>
      process.stderr.write(
        err instanceof RetrainError && err.type === BUFFER_FULL
          ? `prediction logger (${info.model}): ${err.message}\n`
          : `prediction logger (${info.model}): write failed, ${info.buffered} lines kept for the next flush: ${err.message}\n`,
      ));
  const onError: typeof report = (err, info) => {
    try {
      report(err, info);
    } catch {
      // A throwing handler must not break the flush chain (every later flush would be skipped).
    }
  };

  let buffer: PredictionLine[] = [];
  /** Batches cut from the buffer and not yet written, oldest first. */
  const pending: Batch[] = [];
  let pendingLines = 0;
  let timer: NodeJS.Timeout | null = null;
  /** Flushes run one after another, so a batch is never written by two at once. */
  let chain: Promise<void> = Promise.resolve();
  let sizeFlushQueued = false;
  let closed = false;
  let dropped = 0;
  /** Whether the drops since the buffer last had room were reported (once per episode, not per line). */
  let dropReported = false;

  const buffered = () => buffer.length + pendingLines;

  /** Moves buffered lines into pending batches: all of them, or only as many as fill whole batches. */
  function cutBatches(whole: boolean): void {
    const take = whole ? buffer.length : buffer.length - (buffer.length % maxBatch);
    if (take === 0) return;
    const byHour = new Map<string, PredictionLine[]>();
    for (const line of buffer.slice(0, take)) {
      const hour = isoHour(line.timestamp);
      const lines = byHour.get(hour);
      if (lines) lines.push(line);
      else byHour.set(hour, [line]);
    }
    buffer = buffer.slice(take);
    for (const [hour, lines] of byHour) {
      for (let i = 0; i < lines.length; i += maxBatch) {
        const chunk = lines.slice(i, i + maxBatch);
        pending.push({
          hour,
          key: batchKey(model, hour),
          body: chunk.map((l) => JSON.stringify(l)).join('\n') + '\n',
          lines: chunk.length,
        });
        pendingLines += chunk.length;
      }
    }
  }

  async function writeBatch(batch: Batch): Promise<void> {
    for (;;) {
      if (await store.putIfAbsent(batch.key, batch.body)) return;
      // The key exists: an earlier attempt of ours that failed after writing, or (never in
      // practice, ids are random UUIDs) someone else's batch. Only ours has our bytes.
      const existing = await store.get(batch.key);
      if (existing && existing.equals(Buffer.from(batch.body))) return;
      batch.key = batchKey(model, batch.hour);
    }
  }

  async function writePending(whole: boolean): Promise<void> {
    cutBatches(whole);
    while (pending.length > 0) {
      await writeBatch(pending[0]);
      pendingLines -= pending.shift()!.lines;
    }
  }

  function armTimer(): void {
    if (timer || closed || buffered() === 0) return;
    timer = setTimeout(() => {
      timer = null;
      enqueue(true).catch(() => undefined); // reported by onError
    }, flushIntervalMs);
    // The timer alone must not keep a process alive; flushOnExit covers the end of the process.
    timer.unref();
  }

  function clearTimer(): void {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  /**
   * Queues one flush behind the current one: of everything (`whole`), or of full batches only
   * (when the buffer reached maxBatch; the rest waits for the timer). `onStart` runs when it starts.
   */
  function enqueue(whole: boolean, onStart: () => void = () => undefined): Promise<void> {
    if (whole) clearTimer();
    const run = chain.then(() => {
      onStart();
      return writePending(whole);
    });
    chain = run.then(
      () => armTimer(), // lines logged meanwhile get their timer
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        onError(error, { model, buffered: buffered(), dropped });
        armTimer(); // retry later even if nobody calls flush()
      },
    );
    return run;
  }

  /** Writes full batches soon after the buffer reached maxBatch; failures go to onError. */
  function flushFullBatches(): void {
    if (sizeFlushQueued) return;
    sizeFlushQueued = true;
    enqueue(false, () => (sizeFlushQueued = false)).catch(() => undefined);
  }

  return {
    logPrediction(entry: PredictionEntry): PredictionLine {
      if (closed) throw new InvalidInputError(`the prediction logger of ${model} is closed`, { model, version });
      const { id, timestamp, ...rest } = entry;
      const checked = validatePredictionLine(
        {
          ...rest,
          id: id ?? randomUUID(),
          timestamp: timestamp instanceof Date ? timestamp.toISOString() : (timestamp ?? new Date().toISOString()),
          model,
          version,
        },
        `prediction of ${model} ${version}`,
      );
      if (!checked.ok) throw new InvalidInputError(checked.error, { model, version, step: 'prediction-log' });
      if (buffered() >= maxBufferedLines) {
        // The store has been failing long enough to fill the buffer: keep serving, lose this line.
        dropped++;
        if (!dropReported) {
          dropReported = true;
          const full = new RetrainError(
            BUFFER_FULL,
            `buffer full (${maxBufferedLines} lines waiting for the store): dropping new lines until writes succeed`,
            {
              retryable: true,
              context: { model, version, step: 'prediction-log' },
            },
          );
          onError(full, { model, buffered: buffered(), dropped });
        }
        return checked.line;
      }
      dropReported = false;
      buffer.push(checked.line);
      if (buffer.length >= maxBatch) flushFullBatches();
      armTimer();
      return checked.line;
    },
    flush: () => enqueue(true),
    async close() {
      closed = true;
      await enqueue(true);
    },
    get buffered() {
      return buffered();
    },
    get dropped() {
      return dropped;
    },
    model,
  };
}

/** A unique, roughly time-ordered batch key: compact UTC time of writing + a random UUID. */
function batchKey(model: string, hour: string): string {
  const now = new Date().toISOString().replace(/[-:.]/g, '');
  return keys.predictionBatch(model, hour, `${now}-${randomUUID()}`);
}
