/**
 * The peer of bench/api.ts: the same prediction lines written with the Node library
 * (`createPredictionLogger`) straight to the store, in a process of its own, so it has a core
 * and a heap to itself as the API server has. Also exports the line generator both sides use.
 *
 *   node --import tsx bench/api-peer-child.ts '<json PeerArgs>'
 *
 * The store comes from the RETRAIN_* variables through `loadConfig` and `createStore`, as the
 * API server's does. `writers` writers run at once, each with a logger of its own
 * (`maxBatch` = the batch size): log `batch` lines, then `await flush()`, again and again, for
 * the warm-up and then for `duration` seconds. A writer finishes the batch it is flushing when
 * time is up. Prints one JSON line (PeerResult) on stdout.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../services/config';
import { createPredictionLogger, type PredictionLogger } from '../serving/prediction-logger';
import { createStore } from '../store/index';

/** The pipeline both sides log to (pipelines/churn.ts of this repository). */
export const BENCH_MODEL = 'churn';
export const BENCH_VERSION = 'v1dba9190025c';
/** Digits of the counter at the end of every id: `<tag>-<counter>`. */
export const ID_DIGITS = 12;

export interface PeerArgs {
  /** Prefix of the ids, unique per cell. */
  tag: string;
  batch: number;
  writers: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** ISO timestamp of every line (one UTC hour partition, as the API side). */
  timestamp: string;
}

export interface PeerResult {
  /** Lines written during the timed phase, and its length (first batch started → last flush done). */
  predictions: number;
  seconds: number;
  /** Flushes (batches) that succeeded in the timed phase, and each one's time, ms (per batch: log + flush). */
  batches: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed flushes (their lines stay buffered and go with the next flush). */
  errors: number;
  /** Lines written in the warm-up, and lines logged but not written at the end (0 unless the store failed). */
  warmupPredictions: number;
  unwritten: number;
  /** Ids used: `<tag>-<0 … idsUsed-1>`. */
  idsUsed: number;
  /** The kernel's peak RSS of this process (VmHWM), KiB. */
  peakKiB: number;
  /** User + system CPU seconds of the timed phase (all threads of the process). */
  cpuSeconds: number;
}

/** The fields of the line at counter `n` that vary (deterministic, so both sides send the same kind of lines). */
export function benchEntry(n: number) {
  // A small integer hash: no Math.random, so a rerun sends the same values.
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const next = (m: number) => {
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return h % m;
  };
  const score = next(10_000) / 10_000;
  return {
    features: {
      tenure_months: 1 + next(72),
      monthly_spend: (500 + next(30_000)) / 100,
      support_tickets: next(10),
      seats: 1 + next(50),
      plan: ['basic', 'pro', 'enterprise'][next(3)],
      region: ['na', 'eu', 'apac'][next(3)],
    },
    prediction: score >= 0.5 ? 'yes' : 'no',
    score,
    latencyMs: (20 + next(400)) / 100,
  };
}

/** The id of counter `n`: fixed width, so the API side can patch it into a body template in place. */
export function benchId(tag: string, n: number): string {
  return `${tag}-${String(n).padStart(ID_DIGITS, '0')}`;
}

export function vmHwmKiB(pid: number | 'self' = 'self'): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status (Linux only)`);
  return Number(m[1]);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as PeerArgs;
  const store = createStore(loadConfig());
  let counter = 0;
  let errors = 0;
  const loggers: PredictionLogger[] = [];
  for (let w = 0; w < args.writers; w++) {
    loggers.push(
      createPredictionLogger({
        store,
        model: BENCH_MODEL,
        version: BENCH_VERSION,
        maxBatch: args.batch,
        // Only the explicit flush after each batch writes; no timer flush in between.
        flushIntervalMs: 3_600_000,
        onError: () => undefined,
      }),
    );
  }
  const logged = new Array<number>(args.writers).fill(0);
  const written = () => loggers.reduce((n, l, w) => n + logged[w] - l.buffered - l.dropped, 0);

  /** Runs every writer until `until` (performance.now() ms); returns each successful batch's time. */
  const phase = async (until: number): Promise<number[]> => {
    const times: number[] = [];
    await Promise.all(
      loggers.map(async (logger, w) => {
        while (performance.now() < until) {
          const started = performance.now();
          for (let i = 0; i < args.batch; i++) {
            const n = counter++;
            logger.logPrediction({ id: benchId(args.tag, n), timestamp: args.timestamp, ...benchEntry(n) });
          }
          logged[w] += args.batch;
          try {
            await logger.flush();
            times.push(performance.now() - started);
          } catch {
            errors++;
          }
        }
      }),
    );
    return times;
  };

  await phase(performance.now() + args.warmupSeconds * 1000);
  const warmupPredictions = written();
  const warmupErrors = errors;
  errors = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const times = await phase(started + args.durationSeconds * 1000);
  const seconds = (performance.now() - started) / 1000;
  const timedCpu = process.cpuUsage(cpu);
  const predictions = written() - warmupPredictions;
  // A last try for lines a failed flush left behind, so the store check sees everything.
  await Promise.all(loggers.map((l) => l.close().catch(() => undefined)));
  times.sort((a, b) => a - b);
  const usage = process.resourceUsage();
  const result: PeerResult = {
    predictions,
    seconds,
    batches: times.length,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    errors: errors + warmupErrors,
    warmupPredictions,
    unwritten: loggers.reduce((n, l) => n + l.buffered, 0),
    idsUsed: counter,
    peakKiB: Math.max(vmHwmKiB(), usage.maxRSS),
    cpuSeconds: (timedCpu.user + timedCpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Imported by bench/api.ts for the line generator: run only when started as a script.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
