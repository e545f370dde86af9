import { randomUUID } from 'node:crypto';
import { RetrainError, ErrorType } from '../lib/errors';
import type { Store } from '../store/store';
import { forEachLine } from './log-batches';

/**
 * An append-only JSON-lines log in the store (prediction lines, labels) that callers over HTTP
 * can retry safely: each record has an id, and a record whose id is already in its partition
 * (one model, one UTC hour) is acknowledged as a duplicate instead of written again.
 *
 * Writes are group commits: while one batch file of a partition is being written, records of
 * later requests queue up, and the next write takes all of them, so many small requests cost
 * few writes. A request is answered only after the batch holding its records is in the store.
 *
 * The ids of a partition are read from the store the first time it is written after the process
 * starts (so a batch written just before a crash counts), and again after a failed write (which
 * may have landed): then only the batch files not read yet, since a batch file never changes. A
 * write that timed out may still land later (a stalled connection that recovers), so the next
 * write of its partition waits until it has settled before listing the partition again. Files are
 * read a few at a time, and what a read that timed out got through is kept, so an hour of many
 * batch files on a slow store is read over a few attempts instead of failing every one.
 * Idempotency holds for one writer per store; two API processes writing the same log may each
 * write a retried record once.
 */

/** Batch files of a partition read at once when its ids are read. */
const READ_CONCURRENCY = 16;

/** One record to append: its id, the UTC hour ('YYYY-MM-DDTHH') it belongs to, and its JSON line. */
export interface LogRecord {
  id: string;
  hour: string;
  text: string;
}

/** Where a log keeps its batches, and how to read a stored line's id back. */
export interface LogLayout {
  /** The prefix of one model's batches of one hour. */
  partition(model: string, hour: string): string;
  batch(model: string, hour: string, batchId: string): string;
  /** The id of a stored line, or null for a line that has none (not counted). */
  idOf(line: string): string | null;
}

export interface IdempotentLogOptions {
  store: Store;
  layout: LogLayout;
  /**
   * Records accepted and not yet written, across partitions; beyond it `append` refuses at once
   * (the caller retries later) rather than queueing without bound.
   * @default 200000
   */
  maxPendingRecords?: number;
  /**
   * Most records in one batch file.
   * @default 20000
   */
  maxBatchRecords?: number;
  /**
   * Longest one write may take before it counts as failed.
   * @default 15000
   */
  writeTimeoutMs?: number;
  /**
   * A partition not written for this long forgets its ids (they are read again if it is).
   * @default 600000
   */
  idleMs?: number;
  /**
   * Most ids one partition remembers; past it the oldest million are forgotten, and a retry of
   * a record among them is stored again. Bounds memory (about 115 bytes per id) and stays under
   * V8's limit of 2^24 entries per Set, which a busy hour passes (5.6 minutes at 50,000/s).
   * @default 4194304
   */
  maxIdsPerPartition?: number;
}

/** What became of an append: ids written now, and ids that were already in the log. */
export interface AppendResult {
  stored: string[];
  duplicates: string[];
}

/** The log cannot take records now (too many waiting to be written); nothing of the request was stored. */
export class LogBusyError extends RetrainError {
  constructor(message: string) {
    super(ErrorType.PREDICTION_LOG_BUFFER_FULL, message, { retryable: true });
  }
}

/** The store did not take a batch (down, slow, refused); nothing of the failed requests is acknowledged. */
export class LogWriteError extends RetrainError {
  constructor(message: string, cause: unknown) {
    super(ErrorType.STORE_UNAVAILABLE, message, { retryable: true, cause });
  }
}

interface Job {
  records: LogRecord[];
  stored: string[];
  duplicates: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Partition {
  model: string;
  hour: string;
  /** Ids of the batch files in `read`, and of the batches written since. */
  ids: IdSet;
  /** Batch files whose ids are in `ids`. */
  read: Set<string>;
  /**
   * Whether `ids` has every id of the partition in the store: not until it has been listed and
   * read, nor after a failed write (which may have landed) until it has been listed again.
   */
  current: boolean;
  queue: Job[];
  writing: boolean;
  /**
   * The last write, until it settles. One that timed out may still land: until it has settled,
   * no other write of the partition starts (its ids are unknown).
   */
  unsettled: Promise<void> | null;
  lastUsed: number;
}

/** Ids per Set of an {@link IdSet}. */
const ID_SET_PART = 1 << 20;

/**
 * The ids of one partition, in Sets of at most ID_SET_PART ids each (one Set throws RangeError
 * past 2^24 entries); past `maxIds` the oldest Set is dropped.
 */
class IdSet {
  private readonly parts: Set<string>[] = [new Set()];

  constructor(private readonly maxIds: number) {}

  has(id: string): boolean {
    // Newest first: a retry is usually of a recent batch.
    for (let i = this.parts.length - 1; i >= 0; i--) if (this.parts[i].has(id)) return true;
    return false;
  }

  add(id: string): void {
    let last = this.parts[this.parts.length - 1];
    if (last.size >= ID_SET_PART) {
      this.parts.push((last = new Set()));
      if (this.parts.length * ID_SET_PART > this.maxIds) this.parts.shift();
    }
    last.add(id);
  }
}

export class IdempotentLog {
  private readonly partitions = new Map<string, Partition>();
  private pending = 0;
  private readonly maxPending: number;
  private readonly maxBatch: number;
  private readonly writeTimeoutMs: number;
  private readonly idleMs: number;
  private readonly maxIds: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: IdempotentLogOptions) {
    this.maxPending = options.maxPendingRecords ?? 200_000;
    this.maxBatch = options.maxBatchRecords ?? 20_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 15_000;
    this.idleMs = options.idleMs ?? 600_000;
    this.maxIds = options.maxIdsPerPartition ?? 4 * ID_SET_PART;
    this.sweeper = setInterval(() => this.forgetIdle(), Math.min(this.idleMs, 60_000));
    this.sweeper.unref();
  }

  /** Records accepted and not yet written. */
  get pendingRecords(): number {
    return this.pending;
  }

  /**
   * Appends records of one model (ids unique within the call). Resolves once every record is in
   * the store or was already; rejects with {@link LogBusyError} or {@link LogWriteError}, and
   * then the caller must retry: records of a failed call may or may not have been written, and
   * the retry tells which.
   */
  async append(model: string, records: readonly LogRecord[]): Promise<AppendResult> {
    if (records.length === 0) return { stored: [], duplicates: [] };
    if (this.pending + records.length > this.maxPending)
      throw new LogBusyError(`${this.pending} records are waiting to be written (limit ${this.maxPending}); retry shortly`);
    const byHour = new Map<string, LogRecord[]>();
    for (const r of records) {
      const list = byHour.get(r.hour);
      if (list) list.push(r);
      else byHour.set(r.hour, [r]);
    }
    this.pending += records.length;
    const jobs = [...byHour].map(([hour, list]) => this.enqueue(model, hour, list));
    try {
      const done = await Promise.allSettled(jobs.map((j) => j.done));
      const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
      if (failed) throw failed.reason;
      return { stored: jobs.flatMap((j) => j.job.stored), duplicates: jobs.flatMap((j) => j.job.duplicates) };
    } finally {
      this.pending -= records.length;
    }
  }

  /** Stops forgetting idle partitions (for tests and shutdown). */
  close(): void {
    clearInterval(this.sweeper);
  }

  private enqueue(model: string, hour: string, records: LogRecord[]): { job: Job; done: Promise<void> } {
    const key = `${model}\u0000${hour}`;
    let partition = this.partitions.get(key);
    if (!partition) {
      partition = {
        model,
        hour,
        ids: new IdSet(this.maxIds),
        read: new Set(),
        current: false,
        queue: [],
        writing: false,
        unsettled: null,
        lastUsed: Date.now(),
      };
      this.partitions.set(key, partition);
    }
    const job = { records, stored: [], duplicates: [] } as unknown as Job;
    const done = new Promise<void>((resolve, reject) => {
      job.resolve = resolve;
      job.reject = reject;
    });
    partition.queue.push(job);
    void this.drain(partition);
    return { job, done };
  }

  /** Writes a partition's queue, one batch at a time, each batch taking every job waiting. */
  private async drain(p: Partition): Promise<void> {
    if (p.writing) return;
    p.writing = true;
    try {
      while (p.queue.length > 0) {
        const jobs = this.takeJobs(p);
        try {
          const where = this.options.layout.partition(p.model, p.hour);
          if (p.unsettled)
            await this.withTimeout(p.unsettled, `waiting for an earlier write to ${where} (it timed out and may still land)`);
          if (!p.current) {
            await this.withTimeout(this.catchUp(p), `reading ${where}`);
            p.current = true;
          }
          const fresh = new Set<string>();
          const lines: string[] = [];
          for (const job of jobs) {
            job.stored = [];
            job.duplicates = [];
            for (const r of job.records) {
              if (p.ids.has(r.id) || fresh.has(r.id)) job.duplicates.push(r.id);
              else {
                fresh.add(r.id);
                lines.push(r.text);
                job.stored.push(r.id);
              }
            }
          }
          if (lines.length > 0) p.read.add(await this.write(p, lines.join('\n') + '\n'));
          for (const id of fresh) p.ids.add(id);
          for (const job of jobs) job.resolve();
        } catch (err) {
          // A write that reported failure may still have landed: list the partition again next time.
          p.current = false;
          const error =
            err instanceof LogWriteError ? err : new LogWriteError(`the store did not take the batch: ${(err as Error).message}`, err);
          for (const job of jobs) job.reject(error);
        }
        p.lastUsed = Date.now();
      }
    } finally {
      p.writing = false;
    }
  }

  /** Whole jobs from the front of the queue, up to maxBatch records (always at least one job). */
  private takeJobs(p: Partition): Job[] {
    let records = 0;
    let n = 0;
    while (n < p.queue.length && (n === 0 || records + p.queue[n].records.length <= this.maxBatch)) {
      records += p.queue[n].records.length;
      n++;
    }
    return p.queue.splice(0, n);
  }

  /**
   * Adds the ids of the partition's batch files not read yet, a few files at a time. Each file
   * counts as soon as it is read, so an attempt that times out leaves its progress to the next
   * (it may also go on in the background: it only adds ids that are in the store).
   */
  private async catchUp(p: Partition): Promise<void> {
    const { store, layout } = this.options;
    const unread = (await store.list(layout.partition(p.model, p.hour))).filter((key) => !p.read.has(key));
    let next = 0;
    const reader = async () => {
      while (next < unread.length) {
        const key = unread[next++];
        if (p.read.has(key)) continue; // read meanwhile by an earlier attempt still going on
        const body = await store.get(key);
        if (body)
          forEachLine(body, (line) => {
            const id = layout.idOf(line);
            if (id !== null) p.ids.add(id);
          });
        p.read.add(key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, unread.length) }, reader));
  }

  /** Writes one batch file within the write timeout and returns its key; the partition remembers the write until it settles. */
  private async write(p: Partition, body: string): Promise<string> {
    const work = this.writeBatch(p, body);
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    p.unsettled = settled;
    void settled.then(() => {
      if (p.unsettled === settled) p.unsettled = null;
    });
    return this.withTimeout(work, `writing a batch of ${p.model}`);
  }

  private async writeBatch(p: Partition, body: string): Promise<string> {
    const { store, layout } = this.options;
    for (;;) {
      const key = layout.batch(p.model, p.hour, randomUUID());
      if (await store.putIfAbsent(key, body)) return key;
      // A random batch id does not collide in practice: the object is ours, written by an
      // attempt whose answer was lost (the S3 client resends a PUT that got no answer, and the
      // resend finds the object). Writing the body again under another id would store every
      // line twice. Should an id ever collide with someone else's batch, take another.
      if ((await store.get(key))?.equals(Buffer.from(body, 'utf8'))) return key;
    }
  }

  private async withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LogWriteError(`${what} took longer than ${this.writeTimeoutMs} ms`, undefined)),
        this.writeTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private forgetIdle(): void {
    const before = Date.now() - this.idleMs;
    for (const [key, p] of this.partitions)
      if (!p.writing && !p.unsettled && p.queue.length === 0 && p.lastUsed < before) this.partitions.delete(key);
  }
}
