import type { RouteDelivery } from '../lib/alert-message';
import type { Metrics, SegmentMetric } from '../lib/gate';
import type { Pipeline } from '../lib/pipeline';
import type { ModelVersion } from '../lib/registry';
import type { ResolvedWindow } from '../lib/time-window';

/*
 * What the steps of the workflows hand each other: small records of ids, keys and figures,
 * never datasets (Temporal payloads stay small). Activities produce them, workflows pass them
 * on, the CLI and the status show them.
 */

/** A content-addressed copy of the data a run trained on. */
export interface DatasetSnapshot {
  sha256: string;
  /** Store key of the snapshot. */
  key: string;
  format: 'csv' | 'jsonl' | 'parquet';
  bytes: number;
  /** False when the same content was already snapshotted (nothing new was written). */
  created: boolean;
  /** The source's time window as of the run's asOf, when it has one: rows with `column` in [from, to). */
  window?: { column: string; from: string | null; to: string };
  /** The point in time the rows were read as of (the window's `to`). */
  asOf?: string;
}

/** The train/holdout split of a snapshot, stored as two CSVs of the columns training needs. */
export interface DatasetSplit {
  splitId: string;
  trainKey: string;
  holdoutKey: string;
  trainRows: number;
  holdoutRows: number;
}

/** The version a run's inputs make, and what the registry already knows about it. */
export interface VersionPlan {
  version: string;
  fingerprint: string;
  trainingCodeVersion: string;
  /** The version record when these exact inputs were trained before. */
  existing: ModelVersion | null;
  champion: string | null;
  /** When this version was once rolled back: a rerun must not quietly promote it again. */
  rolledBack: { at: string; reason: string } | null;
}

/** What a training run produced, validated against the contract. */
export interface TrainedModel {
  /** Store keys of the uploaded artefacts, by artefact name. */
  artifacts: Record<string, string>;
  classes: string[] | null;
  trainMetrics: Record<string, number>;
  libraryVersions: Record<string, string>;
  durationMs: number;
}

/** Challenger and champion scored on the same holdout with the same code. */
export interface Evaluation {
  challenger: Metrics;
  champion: Metrics | null;
  championVersion: string | null;
  holdoutRows: number;
  /** Store key of the stored evaluation. */
  key: string;
  /** The primary metric per value of each segment column (pipeline.segments), both models on the same rows. */
  segments?: SegmentMetric[];
  /** Predict wall time per holdout row, ms (process start and model load included): the gate's latency ratio. */
  latency?: { challenger: number; champion: number | null };
}

/** What the drift-check workflow needs to decide: small, the full report stays in the store. */
export interface DriftCheckResult {
  checkId: string;
  version: string;
  drifted: boolean;
  /** False when the window held fewer predictions than `drift.minPredictions`. */
  enoughData: boolean;
  /** Predictions the statistics ran on: all of the window, or a sample of `drift.maxWindowRows`. */
  predictions: number;
  /** Predictions logged in the window. */
  windowPredictions: number;
  /** True when `predictions` is a uniform sample of `windowPredictions`. */
  sampled: boolean;
  /**
   * A partitioned check's note on which results were estimated from quantile sketches, and with
   * what rank error; absent when every result is exact.
   */
  accuracy?: string;
  summary: string;
  reportKey: string;
  htmlKey: string;
  datasetDriftShare: number;
  predictionDrifted: boolean;
  conceptDrifted: boolean;
  /**
   * Invalid prediction-log lines in the window above drift.maxInvalidLineShare: the logging owner
   * is alerted. Absent when within.
   */
  loggingProblem?: { invalidLines: number; lines: number; share: number; limit: number; firstInvalid?: string };
  /** The domain classifier's verdict (drift.multivariate); absent when not tested. */
  multivariateDrifted?: boolean;
  /** The champion's performance estimated from its scores without labels (binary classifiers with a calibration). */
  estimatedPerformance?: {
    metric: string;
    value: number | null;
    lower: number | null;
    upper: number | null;
    baseline: number | null;
    /** Below the baseline by more than drift.maxMetricRegression. */
    dropped: boolean;
    /** Whether the drop counted as drift (drift.onEstimatedDrop). */
    counts: boolean;
  };
  /**
   * Some segment value (pipeline.segments) showed dataset drift, which makes `drifted` true; absent
   * when no segment was tested (no segments, not enough data, or a partitioned check).
   */
  segmentDrifted?: boolean;
  /**
   * The serving limits (pipeline.budgets) a version exceeded in the window: cost per 1,000
   * predictions or p95 latency in ms. Not drift: the inference owner is alerted. Absent when within.
   */
  overBudget?: { version: string; what: 'costPer1000' | 'latencyP95Ms'; figure: number; limit: number }[];
}

/** Where a drift alert went: the webhook, or only the log and audit when none is configured. */
export interface DriftAlertDelivery {
  delivered: 'webhook' | 'log';
  /** The first route's URL (null: log and audit only). */
  url: string | null;
  /** Every route of the monitoring area and what happened there. */
  routes?: RouteDelivery[];
}

/** The retraining run a confirmed drift started, or joined when one was already running. */
export interface RetrainStart {
  workflowId: string;
  runId: string;
  joined: boolean;
}

/** A retraining run's input once checked: what the run reads, and as of when. */
export interface CheckedRetrainInput {
  pipeline: Pipeline;
  /** The time the run reads its data as of (ISO-8601 UTC): the input's `asOf`, else the run's start. */
  asOf: string;
  /** True when the input gave `asOf` (a backfill). */
  backfill: boolean;
  /** The rows of the training source the run reads, or null when the source has no window. */
  window: ResolvedWindow | null;
}
