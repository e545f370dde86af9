import { monitoringRoutes } from '../lib/alert-message';
import type { RetrainConfig } from '../lib/config';
import { NotFoundError } from '../lib/errors';
import { isoHour } from '../lib/log-hours';
import type { Pipeline } from '../lib/pipeline';
import { servingSummaryOfColumns } from '../lib/prediction-log';
import {
  retrainingRuns,
  type ExplainEvidence,
  type PredictionEvidence,
  type ReadinessEvidence,
  type RollbackEvidence,
  type ScheduleEvidence,
} from '../lib/readiness';
import type { ChampionPointer } from '../lib/registry';
import type { Store } from '../store/store';
import { explainPredictionById } from './explain';
import { auditHistory } from './model-history';
import { readPredictionWindow, type PredictionWindow } from './prediction-log';
import { readPointer, readVersion } from './registry';

/** What {@link gatherReadiness} reads besides the pipeline. */
export interface ReadinessOptions {
  /** The model's drift schedule as the Temporal server described it (the caller asks: services know no Temporal). */
  schedule: ScheduleEvidence;
  /** @default now */
  now?: Date;
  /**
   * How far back the prediction log is read, milliseconds.
   * @default 24 hours
   */
  windowMs?: number;
  /**
   * Most prediction-log lines held: a longer window is a uniform, seeded sample of this many.
   * @default 100_000
   */
  maxRows?: number;
}

const DAY_MS = 24 * 3_600_000;

/**
 * Reads the evidence the readiness checklist rests on, from the store: the audit log (runs,
 * drift checks), the registry (champion, previous champion and its artefacts), the prediction
 * log of the last 24 hours (bounded by `maxRows`) and an explanation of its newest prediction.
 */
export async function gatherReadiness(
  deps: { store: Store; config: Pick<RetrainConfig, 'alertWebhook'> },
  pipeline: Pipeline,
  opts: ReadinessOptions,
): Promise<ReadinessEvidence> {
  const { store, config } = deps;
  const model = pipeline.name;
  const to = opts.now ?? new Date();
  const from = new Date(to.getTime() - (opts.windowMs ?? DAY_MS));
  const [audit, { pointer }, window] = await Promise.all([
    // Through the audit index: the runs and the last check need no details, and a long log is not reread.
    auditHistory(store, model),
    readPointer(store, model),
    readPredictionWindow(store, model, { from, to, maxRows: opts.maxRows ?? 100_000, seed: 0 }),
  ]);
  const lastDriftCheck = [...audit].reverse().find((e) => e.type === 'drift-check');
  return {
    model,
    owners: pipeline.owners,
    drift: pipeline.drift ? { window: pipeline.drift.window } : null,
    cron: pipeline.schedule?.cron ?? null,
    schedule: opts.schedule,
    alerts: monitoringRoutes(pipeline, config.alertWebhook),
    lastDriftCheck: lastDriftCheck ? { at: lastDriftCheck.at } : null,
    runs: retrainingRuns(audit),
    predictions: predictionEvidence(window),
    maxCostPer1000: pipeline.budgets?.maxCostPer1000 ?? null,
    champion: pointer.champion,
    rollback: await rollbackEvidence(store, pointer),
    explain: await explainNewest(store, model, window),
  };
}

function predictionEvidence(w: PredictionWindow): PredictionEvidence {
  return {
    from: w.from,
    to: w.to,
    lines: w.seen,
    sampled: w.sampled,
    versions: servingSummaryOfColumns(w),
    invalidLines: w.invalidLines,
    ...(w.firstInvalid ? { firstInvalid: w.firstInvalid } : {}),
  };
}

/** The previous champion's record and whether each of its artefacts is in the store. */
async function rollbackEvidence(store: Store, pointer: ChampionPointer): Promise<RollbackEvidence> {
  const previous = pointer.previous;
  if (previous === null) return { previous };
  const version = await readVersion(store, pointer.model, previous).catch((err: unknown) => {
    if (err instanceof NotFoundError) return null;
    throw err;
  });
  if (!version) return { previous, recorded: false };
  const artefacts = await Promise.all(
    Object.entries(version.artifacts).map(async ([name, key]) => ({ name, key, exists: await store.exists(key) })),
  );
  return { previous, recorded: true, artefacts };
}

/** Explains the newest prediction of the window (of the lines read), as `retrain explain` would. */
async function explainNewest(store: Store, model: string, w: PredictionWindow): Promise<ExplainEvidence> {
  if (w.rows === 0) return { state: 'no-prediction' };
  let newest = 0;
  for (let i = 1; i < w.rows; i++) if (w.timestamps[i] > w.timestamps[newest]) newest = i;
  const predictionId = w.ids[newest];
  try {
    // The hour of its timestamp: one partition to scan, not the whole log.
    const result = await explainPredictionById(store, predictionId, { model, at: isoHour(w.timestamps[newest]) });
    if (!result.found) return { state: 'failed', predictionId, reason: result.invalid ?? `not found again in ${result.files} batch files` };
    const { prediction, version, gate, champion } = result.explanation;
    return {
      state: 'explained',
      predictionId,
      at: prediction.timestamp,
      version: prediction.version,
      inRegistry: version !== null,
      isChampion: champion.isChampion,
      gatePassed: gate.length ? gate[gate.length - 1].passed : null,
      action: prediction.action ?? null,
    };
  } catch (err) {
    return { state: 'failed', predictionId, reason: (err as Error).message };
  }
}
