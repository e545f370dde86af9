import { z } from 'zod';
import type { GateCheck, GateDecision, Metrics } from '../../lib/gate';
import type { Assert, Equals } from '../../lib/type-check';

/*
 * The gate's verdict as the API documents it (lib/gate.ts holds the types; lib stays free of
 * API concerns). Shared by RunStatus and PredictionExplanation.
 */

/** A model's metric values by name; null where a metric could not be computed. */
export const metricsSchema = z
  .record(z.string(), z.number().nullable())
  .meta({ id: 'Metrics', description: 'Metric values by name; null where a metric could not be computed.' });

/** One rule of the gate applied to one metric. */
export const gateCheckSchema = z
  .object({
    metric: z.string(),
    rule: z
      .enum(['min', 'max', 'maxRegression', 'required', 'segmentRegression', 'latencyRatio'])
      .describe(
        '`required`: the primary metric must have a value at all; `segmentRegression`: maxRegression in one segment value; `latencyRatio`: predict latency per row against the champion’s.',
      ),
    threshold: z.number().nullable(),
    challenger: z.number().nullable(),
    champion: z.number().nullable(),
    passed: z.boolean(),
    message: z.string(),
    segment: z.object({ column: z.string(), value: z.string(), rows: z.number().int() }).optional(),
  })
  .meta({
    id: 'GateCheck',
    description: 'One rule of the gate applied to one metric: the values compared, the verdict and a readable message.',
  });

/** The gate's written verdict. */
export const gateDecisionSchema = z
  .object({
    passed: z.boolean(),
    reason: z.string(),
    checks: z.array(gateCheckSchema),
    championVersion: z.string().nullable(),
    segments: z
      .object({
        metric: z.string(),
        maxRegression: z.number(),
        minRows: z.number().int(),
        rows: z.array(
          z.object({
            column: z.string(),
            value: z.string(),
            rows: z.number().int(),
            challenger: z.number().nullable(),
            champion: z.number().nullable(),
            gated: z.boolean(),
            passed: z.boolean(),
            note: z.string(),
          }),
        ),
      })
      .optional()
      .describe('The per-segment table of a segment gate: every segment value, gated or shown only.'),
  })
  .meta({ id: 'GateDecision', description: 'The gate’s written verdict: what was checked, the outcome of each check, and why.' });

type _Metrics = Assert<Equals<z.infer<typeof metricsSchema>, Metrics>>;
type _GateCheck = Assert<Equals<z.infer<typeof gateCheckSchema>, GateCheck>>;
type _GateDecision = Assert<Equals<z.infer<typeof gateDecisionSchema>, GateDecision>>;
