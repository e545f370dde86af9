import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import type { DriftCheckReport, ServingSummary } from '../lib/drift/report';
import type { Store } from '../store/store';
import { holdoutBaseline, readPointer } from './registry';

/** What a serving app or a dashboard wants to know of one model at a glance. */
export interface ModelSummary {
  model: string;
  task: Pipeline['task'];
  primaryMetric: string;
  owners: Pipeline['owners'];
  /** Who may approve a candidate; null when promotion is automatic. */
  approvers: string[] | null;
  champion: { version: string; since: string | null; holdout: { metric: string; value: number | null } } | null;
  previous: string | null;
  /** The latest drift check's verdict; null before the first one. */
  lastDrift: {
    checkId: string;
    at: string;
    drifted: boolean;
    enoughData: boolean;
    datasetDriftShare: number | null;
    predictionDrifted: boolean;
    conceptDrifted: boolean;
    summary: string;
    reportKey: string;
  } | null;
  /** Volume, latency and cost per version in the latest drift check's window. */
  serving: ServingSummary[];
}

/** Reads the registry pointer and the latest drift report of a model. */
export async function modelSummary(store: Store, pipeline: Pipeline): Promise<ModelSummary> {
  const model = pipeline.name;
  const { pointer } = await readPointer(store, model);
  const metric = pipeline.metrics.primary;
  const champion = pointer.champion
    ? {
        version: pointer.champion,
        since: pointer.updatedAt,
        holdout: { metric, value: await holdoutBaseline(store, model, pointer.champion, metric) },
      }
    : null;
  // Report keys start with the check's time, so the last JSON key is the latest check.
  const reportKey = (await store.list(keys.driftReports(model))).filter((k) => k.endsWith('.json')).pop();
  const body = reportKey ? await store.get(reportKey) : null;
  const report = body ? (JSON.parse(body.toString('utf8')) as DriftCheckReport) : null;
  return {
    model,
    task: pipeline.task,
    primaryMetric: metric,
    owners: pipeline.owners,
    approvers: pipeline.approval.mode === 'manual' ? pipeline.approval.approvers : null,
    champion,
    previous: pointer.previous,
    lastDrift:
      report && reportKey
        ? {
            checkId: report.checkId,
            at: report.createdAt,
            drifted: report.drifted,
            enoughData: report.enoughData ?? true,
            datasetDriftShare: report.dataDrift?.datasetDrift?.share ?? null,
            predictionDrifted: report.predictionDrift?.drifted ?? false,
            conceptDrifted: report.conceptDrift?.drifted ?? false,
            summary: report.summary,
            reportKey,
          }
        : null,
    serving: report?.serving ?? [],
  };
}
