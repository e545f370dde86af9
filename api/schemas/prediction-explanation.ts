import { z } from 'zod';
import type { PredictionExplanation } from '../../lib/prediction-explanation';
import { predictionLineSchema } from '../../lib/prediction-log';
import { gateCheckSchema, metricsSchema } from './gate';
import { modelVersionSchema, registryChangeSchema } from './registry';
import type { Assert, Equals } from '../../lib/type-check';

/*
 * PredictionExplanation (lib/prediction-explanation.ts) as `GET /v1/predictions/{id}/explain`
 * documents and serializes it. The prediction is the prediction log's line as stored (the
 * library's schema: lines the serving library wrote skip the API's stricter id rules).
 */

export const predictionExplanationSchema = z
  .object({
    prediction: predictionLineSchema,
    loggedIn: z
      .object({ key: z.string(), line: z.number().int() })
      .describe('The batch file (store key) and the 1-based line the prediction was logged in.'),
    version: modelVersionSchema
      .nullable()
      .describe('The version record (lineage, train metrics); null when the registry has no such version.'),
    evaluation: z
      .object({
        at: z.string(),
        metrics: metricsSchema,
        champion: z.string().nullable(),
        championMetrics: metricsSchema.nullable(),
      })
      .nullable()
      .describe('Holdout metrics of the version’s latest evaluation, and the champion it was compared with.'),
    gate: z
      .array(
        z.object({
          at: z.string(),
          passed: z.boolean(),
          reason: z.string(),
          checks: z.array(gateCheckSchema),
          championVersion: z.string().nullable(),
          workflowId: z.string().nullable(),
          runId: z.string().nullable(),
        }),
      )
      .describe('Gate decisions on this version, oldest first (a version reused by a later run is gated again).'),
    approval: z
      .array(
        z.object({
          at: z.string(),
          decision: z.string(),
          by: z.string().nullable(),
          reason: z.string().nullable(),
          approvers: z.array(z.string()),
          workflowId: z.string().nullable(),
          runId: z.string().nullable(),
        }),
      )
      .describe('Approval decisions on this version, oldest first.'),
    champion: z.object({
      current: z.string().nullable().describe('The champion now.'),
      isChampion: z.boolean(),
      atPrediction: z.string().nullable().describe('The champion when the prediction was made (by the pointer’s history).'),
      changes: z.array(registryChangeSchema).describe('Changes of the champion pointer that made this version champion or replaced it.'),
    }),
    contributions: z
      .discriminatedUnion('available', [
        z.object({
          available: z.literal(true),
          method: z.string(),
          output: z.string(),
          estimator: z.string(),
          class: z.string().nullable(),
          base: z.number(),
          value: z.number(),
          top: z.array(z.object({ feature: z.string(), contribution: z.number() })),
          note: z.string(),
        }),
        z.object({ available: z.literal(false), reason: z.string() }),
      ])
      .optional()
      .describe(
        'With ?contributions=true: the features that pushed this prediction most (base + Σ contributions = value), or why they could not be computed.',
      ),
  })
  .meta({
    id: 'PredictionExplanation',
    description:
      'Why a prediction was made: the version that made it, its lineage, the gate and approval decisions that let it serve, and its history as champion.',
  });

type _PredictionExplanation = Assert<Equals<z.infer<typeof predictionExplanationSchema>, PredictionExplanation>>;
