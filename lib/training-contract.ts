import { z } from 'zod';
import { formatIssues, TrainingContractError, type ErrorContext } from './errors';

/** The contract id a training request and its `result.json` carry (training/CONTRACT.md). */
export const TRAIN_CONTRACT = 'retrain.train/v1';
/** The contract id a predict request carries (training/CONTRACT.md). */
export const PREDICT_CONTRACT = 'retrain.predict/v1';

/** `result.json` written by a training command (training/CONTRACT.md). */
export const trainingResultSchema = z.object({
  contract: z.literal(TRAIN_CONTRACT).optional(),
  artifacts: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, 'artifact names are letters, digits, dot, dash, underscore'),
      z
        .string()
        .min(1)
        .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'must be a path inside outputDir'),
    )
    .refine((a) => 'model' in a, 'must name a "model" artifact'),
  metrics: z.record(z.string(), z.number()).default({}),
  classes: z.array(z.string()).min(2).optional(),
  libraryVersions: z.record(z.string(), z.string()).default({}),
});
/** A validated `result.json`: artifact paths (relative to outputDir) by name, metrics, classes, library versions. */
export type TrainingResult = z.infer<typeof trainingResultSchema>;

/**
 * A model's output for one input row: one line of a predict command's output. Not a line of the
 * prediction log (lib/prediction-log.ts), which also records id, time, version and features.
 */
export const modelOutputSchema = z.object({
  prediction: z.union([z.string(), z.number()]),
  scores: z.record(z.string(), z.number()).optional(),
});
/** One validated line of a predict command's output: the model's output for one input row. */
export type ModelOutput = z.infer<typeof modelOutputSchema>;

/** Validates `result.json` text; a broken result is the training code's bug, so it is not retried. */
export function parseTrainingResult(text: string, context: ErrorContext): TrainingResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TrainingContractError(`result.json is not valid JSON: ${(err as Error).message}`, context);
  }
  const parsed = trainingResultSchema.safeParse(json);
  if (!parsed.success) throw new TrainingContractError(formatIssues('result.json', parsed.error.issues), context);
  return parsed.data;
}

/** Validates a predict command's JSON-lines output against the number of input rows. */
export function parsePredictions(
  text: string,
  expectedRows: number,
  task: 'classification' | 'regression',
  classes: string[] | null,
  context: ErrorContext,
): ModelOutput[] {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length !== expectedRows) {
    throw new TrainingContractError(`predict wrote ${lines.length} predictions for ${expectedRows} input rows`, context);
  }
  return lines.map((line, i) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new TrainingContractError(`prediction line ${i + 1} is not valid JSON`, context);
    }
    const parsed = modelOutputSchema.safeParse(json);
    if (!parsed.success) throw new TrainingContractError(formatIssues(`prediction line ${i + 1}`, parsed.error.issues), context);
    const p = parsed.data;
    if (task === 'regression' && (typeof p.prediction !== 'number' || !Number.isFinite(p.prediction))) {
      throw new TrainingContractError(`prediction line ${i + 1}: regression prediction must be a finite number`, context);
    }
    if (task === 'classification') {
      if (classes && !classes.includes(String(p.prediction))) {
        throw new TrainingContractError(
          `prediction line ${i + 1}: "${p.prediction}" is not one of the model's classes (${classes.join(', ')})`,
          context,
        );
      }
      if (!p.scores) throw new TrainingContractError(`prediction line ${i + 1}: classification output needs "scores"`, context);
    }
    return p;
  });
}
