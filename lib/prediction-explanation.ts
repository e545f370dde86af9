import type { AuditEvent } from './audit';
import type { GateCheck } from './gate';
import type { PredictionLine } from './prediction-log';
import type { ChampionPointer, ModelVersion, RegistryChange } from './registry';

/**
 * "Why did the system make this decision?": a prediction with the model version that made it,
 * that version's lineage, the gate and approval decisions that let it serve, and its history as
 * champion. Pure code: the caller reads the records.
 */
export interface PredictionExplanation {
  prediction: PredictionLine;
  /** The batch file and line the prediction was logged in. */
  loggedIn: { key: string; line: number };
  /** The version record (lineage, train metrics); null when the registry has no such version. */
  version: ModelVersion | null;
  /** Holdout metrics of the version's latest evaluation, and the champion it was compared with. */
  evaluation: {
    at: string;
    metrics: Record<string, number | null>;
    champion: string | null;
    championMetrics: Record<string, number | null> | null;
  } | null;
  /** Gate decisions on this version, oldest first (a version reused by a later run is gated again). */
  gate: {
    at: string;
    passed: boolean;
    reason: string;
    checks: GateCheck[];
    championVersion: string | null;
    workflowId: string | null;
    runId: string | null;
  }[];
  /** Approval decisions on this version, oldest first. */
  approval: {
    at: string;
    decision: string;
    by: string | null;
    reason: string | null;
    approvers: string[];
    workflowId: string | null;
    runId: string | null;
  }[];
  champion: {
    /** The champion now. */
    current: string | null;
    isChampion: boolean;
    /** The champion when the prediction was made (by the pointer's history). */
    atPrediction: string | null;
    /** Changes of the champion pointer that made this version champion or replaced it. */
    changes: RegistryChange[];
  };
  /** Which features pushed this prediction most: present when asked for (computed by the model in Python). */
  contributions?: ContributionsSummary;
}

/** The features that pushed one prediction most, or why they could not be computed. */
export type ContributionsSummary =
  | {
      available: true;
      /** linear, linear-reference or tree-path (training/explain.py). */
      method: string;
      /** What the contributions add up to: log-odds, logit, probability or value. */
      output: string;
      estimator: string;
      /** The class explained; null for regression. */
      class: string | null;
      /** The output before any feature: base + Σ contributions = value. */
      base: number;
      value: number;
      /** The largest contributions by size, with their sign. */
      top: { feature: string; contribution: number }[];
      note: string;
    }
  | { available: false; reason: string };

/** Puts the records of one prediction together (see {@link PredictionExplanation}). */
export function explainPrediction(input: {
  prediction: PredictionLine;
  loggedIn: { key: string; line: number };
  version: ModelVersion | null;
  pointer: ChampionPointer;
  /** The model's audit log, in order. */
  audit: readonly AuditEvent[];
}): PredictionExplanation {
  const { prediction, pointer } = input;
  const v = prediction.version;
  const events = input.audit.filter((e) => e.version === v);
  const lastEvaluation = events.filter((e) => e.type === 'evaluation').at(-1);
  const at = Date.parse(prediction.timestamp);
  // The pointer's history is in the order changes were applied.
  const atPrediction = pointer.history.filter((h) => Date.parse(h.at) <= at).at(-1)?.to ?? null;
  return {
    prediction,
    loggedIn: input.loggedIn,
    version: input.version,
    evaluation: lastEvaluation
      ? {
          at: lastEvaluation.at,
          metrics: (lastEvaluation.details.challenger as Record<string, number | null>) ?? {},
          champion: (lastEvaluation.details.championVersion as string | null) ?? null,
          championMetrics: (lastEvaluation.details.champion as Record<string, number | null> | null) ?? null,
        }
      : null,
    gate: events
      .filter((e) => e.type === 'gate')
      .map((e) => ({
        at: e.at,
        passed: typeof e.details.passed === 'boolean' ? e.details.passed : e.outcome === 'ok',
        reason: typeof e.details.reason === 'string' ? e.details.reason : e.summary,
        checks: Array.isArray(e.details.checks) ? (e.details.checks as GateCheck[]) : [],
        championVersion: (e.details.championVersion as string | null) ?? null,
        workflowId: e.workflowId,
        runId: e.runId,
      })),
    approval: events
      .filter((e) => e.type === 'approval')
      .map((e) => ({
        at: e.at,
        decision: typeof e.details.decision === 'string' ? e.details.decision : e.outcome === 'ok' ? 'approved' : 'rejected',
        by: (e.details.by as string | null) ?? null,
        reason: (e.details.reason as string | null) ?? null,
        approvers: Array.isArray(e.details.approvers) ? (e.details.approvers as string[]) : [],
        workflowId: e.workflowId,
        runId: e.runId,
      })),
    champion: {
      current: pointer.champion,
      isChampion: pointer.champion === v,
      atPrediction,
      changes: pointer.history.filter((h) => h.to === v || h.from === v),
    },
  };
}
