import { z } from 'zod';
import { keys } from '../lib/keys';
import { pipelineSchema, type Pipeline } from '../lib/pipeline';
import type { DriftCheckReport, ServingSummary } from '../lib/drift/report';
import type { Store } from '../store/store';
import type { Assert, Equals } from '../lib/type-check';
import { holdoutBaseline, readPointer } from './registry';

/** How one model version served in a drift check's window (lib/prediction-log.ts computes it). */
export const servingSummarySchema = z
  .object({
    version: z.string(),
    predictions: z.number().int(),
    latencyMs: z
      .object({ mean: z.number(), p50: z.number(), p95: z.number(), max: z.number() })
      .describe('Milliseconds; percentiles by nearest rank (always an observed latency).'),
    cost: z
      .object({ total: z.number(), perPrediction: z.number().nullable(), counted: z.number().int() })
      .describe(
        '`total` over the predictions that reported a cost, `counted` of them; `perPrediction` is total / counted (null when none did).',
      ),
  })
  .meta({ id: 'ServingSummary', description: 'Volume, latency and cost of one model version.' });

/**
 * What a serving app or a dashboard wants to know of one model at a glance: the answer of
 * `GET /v1/models` and `GET /v1/models/{model}`, so the type is the schema's.
 */
export const modelSummarySchema = z
  .object({
    model: z.string(),
    task: pipelineSchema.shape.task,
    primaryMetric: z.string(),
    owners: pipelineSchema.shape.owners,
    approvers: z.array(z.string()).nullable().describe('Who may approve a candidate; null when promotion is automatic.'),
    champion: z
      .object({
        version: z.string(),
        since: z.string().nullable(),
        holdout: z.object({ metric: z.string(), value: z.number().nullable() }),
      })
      .nullable(),
    previous: z.string().nullable(),
    lastDrift: z
      .object({
        checkId: z.string(),
        at: z.string(),
        drifted: z.boolean(),
        enoughData: z.boolean(),
        datasetDriftShare: z.number().nullable(),
        predictionDrifted: z.boolean(),
        conceptDrifted: z.boolean(),
        summary: z.string(),
        reportKey: z.string(),
      })
      .nullable()
      .describe('The latest drift check’s verdict; null before the first one.'),
    serving: z.array(servingSummarySchema).describe('Volume, latency and cost per version in the latest drift check’s window.'),
  })
  .meta({
    id: 'ModelSummary',
    description: 'One model at a glance: champion, previous, owners, last drift verdict, serving latency and cost.',
  });

/** What a serving app or a dashboard wants to know of one model at a glance. */
export type ModelSummary = z.infer<typeof modelSummarySchema>;

type _ServingSummary = Assert<Equals<z.infer<typeof servingSummarySchema>, ServingSummary>>;
type _Task = Assert<Equals<ModelSummary['task'], Pipeline['task']>>;
type _Owners = Assert<Equals<ModelSummary['owners'], Pipeline['owners']>>;

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
