import { maxSorted, mean, sum } from 'simple-statistics';
import { z } from 'zod';
import { InvalidInputError } from './errors';
import { isoHour } from './log-hours';
import { safeParseJsonLine, validateJsonLine, type ParsedLine as ParsedJsonLine } from './json-lines';

/**
 * The prediction log: one JSON line per prediction a served model made. It is the input of
 * drift monitoring and the answer to "which model made this decision, from what?". Pure code.
 */

/** Longest `action` a line may carry, in characters. */
export const MAX_ACTION_CHARS = 500;
/** Largest `context` a line may carry, as JSON bytes: the log stays a log, not a document store. */
export const MAX_CONTEXT_BYTES = 2048;

/** A context value: flat (a scalar or a list of scalars), so every client can write it and read it back. */
const contextScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const contextValue = z.union([contextScalar, z.array(contextScalar)], {
  error: 'expected a string, number, boolean, null or a list of those',
});

/** A feature value as the model saw it: a number, a category, or missing. */
const featureValue = z.union([z.number(), z.string(), z.null()], { error: 'expected a number, a string or null' });

/** One line of the prediction log (strict: an unknown field is an error, not silently kept). */
export const predictionLineSchema = z.strictObject({
  /** Unique per prediction; what `retrain explain <id>` looks up. */
  id: z.string().min(1),
  /** When the prediction was made, ISO-8601 with `Z` or an offset (partitions are by UTC hour). */
  timestamp: z.iso.datetime({ offset: true }),
  model: z.string().min(1),
  /** The model version that served the prediction. */
  version: z.string().min(1),
  features: z.record(z.string(), featureValue),
  /** The class label (classification) or the value (regression). */
  prediction: z.union([z.number(), z.string()], { error: 'expected a number or a string' }),
  /** Score of the positive class, or the model's confidence. */
  score: z.number().optional(),
  /** Score per class. */
  scores: z.record(z.string(), z.number()).optional(),
  /** Serving latency of this prediction, milliseconds. */
  latencyMs: z.number().nonnegative(),
  /** Cost of this prediction, in whatever currency unit the team uses. */
  cost: z.number().nonnegative().optional(),
  /**
   * What the product did with the prediction: the business rule's outcome ("offered discount
   * 20%", "routed to manual review"). The last link of "why did the system make this decision?".
   */
  action: z.string().min(1).max(MAX_ACTION_CHARS, `at most ${MAX_ACTION_CHARS} characters: say what was done, not why in full`).optional(),
  /** Anything else the product knew when it acted (a rule's inputs, a threshold, an experiment arm): small, flat JSON. */
  context: z
    .record(z.string(), contextValue)
    .refine((c) => Buffer.byteLength(JSON.stringify(c)) <= MAX_CONTEXT_BYTES, {
      message: `at most ${MAX_CONTEXT_BYTES} bytes as JSON: keep the context small (ids, not documents)`,
    })
    .optional(),
});

/** One validated line of the prediction log. */
export type PredictionLine = z.infer<typeof predictionLineSchema>;

/** A line that validated, or the error that says where and why it did not. */
export type ParsedLine = ParsedJsonLine<PredictionLine>;

/**
 * Parses one line of text without throwing. `where` names it for people (`file:line`); the
 * error names the field and what was expected.
 */
export function safeParsePredictionLine(text: string, where: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return safeParseJsonLine(predictionLineSchema, text, where, 'prediction line');
  }
  return validatePredictionLine(value, where);
}

/** Validates an already-parsed value as a line; the error names `where` and each bad field. */
export function validatePredictionLine(value: unknown, where: string): ParsedLine {
  if (isPlainValidLine(value)) return { ok: true, line: value };
  return validateJsonLine(predictionLineSchema, value, where, 'prediction line');
}

/** The fields a line may have, and the string fields that must not be empty. */
const LINE_FIELDS = new Set(Object.keys(predictionLineSchema.shape));
const TIMESTAMP = predictionLineSchema.shape.timestamp.def.pattern ?? /(?!)/;

/**
 * The common case checked without the schema's machinery, which costs about three times as much
 * as JSON.parse: a line as JSON.parse gives it that certainly matches predictionLineSchema (the
 * same timestamp pattern; the schema returns such a line as it is). False means "ask the
 * schema", which either accepts an unusual line or names what is wrong: this check may be
 * stricter than the schema, never looser.
 */
function isPlainValidLine(value: unknown): value is PredictionLine {
  // A plain object only: the line is returned as it is, so it must serialise as it validates.
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const v = value as Record<string, unknown>;
  let fields = 0;
  for (const key in v) {
    if (!LINE_FIELDS.has(key)) return false;
    fields++;
  }
  if (!nonEmpty(v.id) || !nonEmpty(v.model) || !nonEmpty(v.version)) return false;
  if (typeof v.timestamp !== 'string' || !TIMESTAMP.test(v.timestamp)) return false;
  if (typeof v.prediction !== 'number' && typeof v.prediction !== 'string') return false;
  if (!nonNegative(v.latencyMs)) return false;
  if (v.cost !== undefined && !nonNegative(v.cost)) return false;
  if (v.score !== undefined && !Number.isFinite(v.score)) return false;
  if (v.scores !== undefined && !plainRecord(v.scores, (x) => Number.isFinite(x))) return false;
  if (v.action !== undefined && !(typeof v.action === 'string' && v.action.length > 0 && v.action.length <= MAX_ACTION_CHARS)) return false;
  // A context is rare and its size check costs a serialisation: the schema takes it.
  if (v.context !== undefined) return false;
  if (!plainRecord(v.features, (x) => x === null || typeof x === 'string' || Number.isFinite(x))) return false;
  // Every field is one of the checked ones: 7 required, and the optional ones present.
  const optional =
    Number(v.cost !== undefined) + Number(v.score !== undefined) + Number(v.scores !== undefined) + Number(v.action !== undefined);
  return fields === 7 + optional;
}

function nonEmpty(x: unknown): boolean {
  return typeof x === 'string' && x.length > 0;
}

function nonNegative(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/** An object of JSON.parse's making whose every value passes `valid`; "__proto__" is left to the schema. */
function plainRecord(x: unknown, valid: (value: unknown) => boolean): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  for (const key in x) {
    if (key === '__proto__' || !Object.hasOwn(x, key) || !valid((x as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Parses one line of text; throws an `InvalidInput` error naming `where` and the field. */
export function parsePredictionLine(text: string, where: string): PredictionLine {
  const parsed = safeParsePredictionLine(text, where);
  if (!parsed.ok) throw new InvalidInputError(parsed.error, { step: 'prediction-log' });
  return parsed.line;
}

export { isoHour } from './log-hours';

/** How one model version served: volume, latency and cost. */
export interface VersionServing {
  version: string;
  predictions: number;
  /** Milliseconds. Percentiles by nearest rank (see {@link servingSummary}). */
  latencyMs: { mean: number; p50: number; p95: number; max: number };
  /**
   * `total` over the lines that had a cost, `counted` of them; `perPrediction` is total /
   * counted (null when none had one), so lines that did not report a cost do not dilute it.
   */
  cost: { total: number; perPrediction: number | null; counted: number };
}

/** The columns {@link servingSummaryOfColumns} reads (as in a prediction window). */
export interface ServingColumns {
  versions: readonly string[];
  latencyMs: Float64Array;
  /** NaN where a line had no cost. */
  cost: Float64Array;
}

/**
 * Volume, latency and cost per model version, sorted by version. Percentiles are
 * nearest-rank: the p-th percentile of n sorted values is the value at rank ⌈p/100 · n⌉
 * (always an observed latency, never interpolated). The mean latency and the cost total are
 * compensated sums (simple-statistics), so a long window does not drift by rounding.
 */
export function servingSummary(lines: readonly Pick<PredictionLine, 'version' | 'latencyMs' | 'cost'>[]): VersionServing[] {
  const latencyMs = new Float64Array(lines.length);
  const cost = new Float64Array(lines.length);
  const versions = new Array<string>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    versions[i] = lines[i].version;
    latencyMs[i] = lines[i].latencyMs;
    cost[i] = lines[i].cost ?? NaN;
  }
  return servingSummaryOfColumns({ versions, latencyMs, cost });
}

/** {@link servingSummary} on columns (no per-line objects needed). */
export function servingSummaryOfColumns(columns: ServingColumns): VersionServing[] {
  const { versions, latencyMs, cost } = columns;
  // Two passes: count per version, then fill one typed array per version.
  const index = new Map<string, number>();
  const counts: number[] = [];
  const group = new Int32Array(versions.length);
  for (let i = 0; i < versions.length; i++) {
    let g = index.get(versions[i]);
    if (g === undefined) {
      g = counts.length;
      index.set(versions[i], g);
      counts.push(0);
    }
    counts[g]++;
    group[i] = g;
  }
  const latency = counts.map((n) => new Float64Array(n));
  const costs = counts.map((n) => new Float64Array(n));
  const filled = new Int32Array(counts.length);
  const costCounted = new Int32Array(counts.length);
  for (let i = 0; i < versions.length; i++) {
    const g = group[i];
    latency[g][filled[g]++] = latencyMs[i];
    if (!Number.isNaN(cost[i])) costs[g][costCounted[g]++] = cost[i];
  }
  const out: VersionServing[] = [];
  for (const [version, g] of index) {
    const sorted = asNumbers(latency[g].sort());
    const costTotal = sum(asNumbers(costs[g].subarray(0, costCounted[g])));
    out.push({
      version,
      predictions: sorted.length,
      latencyMs: { mean: mean(sorted), p50: nearestRank(sorted, 50), p95: nearestRank(sorted, 95), max: maxSorted(sorted) },
      cost: { total: costTotal, perPrediction: costCounted[g] ? costTotal / costCounted[g] : null, counted: costCounted[g] },
    });
  }
  return out.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/**
 * simple-statistics reads its input only by `length` and index, so a typed array serves as its
 * array without a copy.
 */
function asNumbers(values: Float64Array): readonly number[] {
  return values as unknown as readonly number[];
}

/**
 * Nearest-rank percentile of ascending, non-empty values. Not simple-statistics'
 * `quantileSorted`: that interpolates (numpy's linear method, p50 of 10 20 30 40 is 25), and
 * the report promises an observed latency (p50 20).
 */
function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The partitions of the prediction log that hold the lines of [from, to): 'YYYY-MM-DD' for a
 * UTC day the window covers whole (one listing instead of 24), 'YYYY-MM-DDTHH' for the hours
 * at its ragged ends. Empty when `to` <= `from`.
 */
export function partitionsOverlapping(from: Date, to: Date): string[] {
  const end = to.getTime();
  const out: string[] = [];
  for (let t = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS; t < end;) {
    if (t % DAY_MS === 0 && t + DAY_MS <= end) {
      out.push(new Date(t).toISOString().slice(0, 10));
      t += DAY_MS;
    } else {
      out.push(isoHour(t));
      t += HOUR_MS;
    }
  }
  return out;
}
