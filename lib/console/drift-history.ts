import type { DriftCheckReport, ServingSummary } from '../drift/report';

/**
 * One drift check as the console charts it: the verdicts and figures of its report, without the
 * distributions (a report is tens of kilobytes, an entry a few hundred bytes, so ten thousand
 * checks fit one index the console reads at once).
 */
export interface DriftHistoryEntry {
  checkId: string;
  at: string;
  /** The champion checked. */
  version: string | null;
  drifted: boolean;
  enoughData: boolean;
  /** Predictions in the window. */
  rows: number;
  /** Share of features that drifted; null when nothing was tested. */
  datasetDriftShare: number | null;
  /** The dataset drifted (enough features did); null when nothing was tested. */
  dataDrifted: boolean | null;
  features: string[];
  driftedFeatures: string[];
  predictionDrifted: boolean | null;
  conceptDrifted: boolean | null;
  /** The primary metric on labelled rows against the holdout, when labels arrived. */
  concept: { metric: string; baseline: number | null; current: number | null; labelledRows: number } | null;
  /** The champion's performance estimated from its scores (CBPE), when it could be. */
  estimated: {
    metric: string;
    baseline: number | null;
    value: number | null;
    lower: number | null;
    upper: number | null;
    dropped: boolean;
  } | null;
  serving: ServingSummary[];
  /** Some version was over the pipeline's budgets; null without budgets. */
  overBudget: boolean | null;
  summary: string;
  reportKey: string;
}

/** The history entry of a stored report. */
export function driftHistoryEntry(report: DriftCheckReport, reportKey: string): DriftHistoryEntry {
  const features = report.dataDrift?.features ?? [];
  const enoughData = report.enoughData ?? true;
  const est = report.estimatedPerformance;
  const concept = report.conceptDrift;
  return {
    checkId: report.checkId,
    at: report.createdAt,
    version: report.version,
    drifted: report.drifted,
    enoughData,
    rows: report.current?.rows ?? 0,
    datasetDriftShare: enoughData && features.length > 0 ? (report.dataDrift?.datasetDrift?.share ?? null) : null,
    dataDrifted: enoughData && features.length > 0 ? (report.dataDrift?.datasetDrift?.drifted ?? null) : null,
    features: features.map((f) => f.name),
    driftedFeatures: features.filter((f) => f.drifted).map((f) => f.name),
    predictionDrifted: report.predictionDrift ? report.predictionDrift.drifted : null,
    conceptDrifted: concept ? concept.drifted : null,
    concept: concept
      ? { metric: concept.metric, baseline: concept.baseline, current: concept.current, labelledRows: concept.labelledRows }
      : null,
    estimated: est
      ? {
          metric: est.metric,
          baseline: est.baseline,
          value: est.estimate.value,
          lower: est.estimate.lower,
          upper: est.estimate.upper,
          dropped: est.dropped,
        }
      : null,
    serving: report.serving ?? [],
    overBudget: report.budgets ? report.budgets.over : null,
    summary: report.summary,
    reportKey,
  };
}
