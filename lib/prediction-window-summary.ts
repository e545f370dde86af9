/**
 * A mergeable summary of prediction-log lines, for drift checks on windows larger than one
 * worker's memory: each partition (a UTC hour) of the window is summarised by whichever worker
 * runs its activity, the summaries travel through the store as JSON and merge in any order, and
 * the check tests the merged summary (lib/drift/approximate-drift.ts). Pure code.
 *
 * It keeps the features and the model's output as window summaries (exact counts, exact
 * moments and a quantile sketch per numeric column; exact label counts per categorical one),
 * and per model version the serving figures: predictions, latency (exact mean and maximum,
 * percentiles from a sketch) and cost (exact total).
 */

import { z } from 'zod';
import { WindowSummary, windowSummarySchema, type SummaryFeature } from './drift/window-summary';
import { QuantileSketch, quantileSketchSchema, seedOf } from './drift/quantile-sketch';
import { formatIssues, InvalidInputError } from './errors';
import type { FeatureKind } from './feature-kind';
import type { PredictionLine } from './prediction-log';
import type { VersionServing } from './prediction-log';

/** The one column of the output summary. */
export const OUTPUT_COLUMN = 'prediction';

/** Rows gathered before they are added to the summaries (a batch of columns, then reused). */
const BATCH_ROWS = 8192;

/** What a summary covers. */
export interface PredictionSummaryOptions {
  /** The pipeline's features and their kinds. */
  features: readonly SummaryFeature[];
  /** How the model's output is tested: 'categorical' for classification, 'numeric' for regression. */
  outputKind: FeatureKind;
  /** Seed of the sketches' coin flips: give each partition its own (e.g. seedOf(partition)). */
  seed: number;
}

/** One version's serving figures while summarising. */
class VersionTally {
  predictions = 0;
  latencySum = 0;
  private latencyCompensation = 0;
  latencyMax = -Infinity;
  costTotal = 0;
  private costCompensation = 0;
  costCounted = 0;

  constructor(readonly latency: QuantileSketch) {}

  add(latencyMs: number, cost: number | undefined): void {
    this.predictions++;
    this.latency.update(latencyMs);
    [this.latencySum, this.latencyCompensation] = neumaier(this.latencySum, this.latencyCompensation, latencyMs);
    if (latencyMs > this.latencyMax) this.latencyMax = latencyMs;
    if (cost !== undefined) {
      [this.costTotal, this.costCompensation] = neumaier(this.costTotal, this.costCompensation, cost);
      this.costCounted++;
    }
  }

  merge(other: VersionTally): void {
    this.predictions += other.predictions;
    this.latency.merge(other.latency);
    [this.latencySum, this.latencyCompensation] = neumaier(
      this.latencySum,
      this.latencyCompensation + other.latencyCompensation,
      other.latencySum,
    );
    this.latencyMax = Math.max(this.latencyMax, other.latencyMax);
    [this.costTotal, this.costCompensation] = neumaier(this.costTotal, this.costCompensation + other.costCompensation, other.costTotal);
    this.costCounted += other.costCounted;
  }

  /** The sums with their compensation folded in (what is stored and reported). */
  get latencyTotal(): number {
    return this.latencySum + this.latencyCompensation;
  }
  get cost(): number {
    return this.costTotal + this.costCompensation;
  }

  static restore(json: Omit<z.infer<typeof versionSchema>, 'version'>): VersionTally {
    const tally = new VersionTally(QuantileSketch.fromJSON(json.latency.sketch));
    tally.predictions = json.predictions;
    tally.latencySum = json.latency.sum;
    tally.latencyMax = json.latency.max;
    tally.costTotal = json.cost.total;
    tally.costCounted = json.cost.counted;
    return tally;
  }
}

/** One step of Neumaier's compensated sum: the new sum and compensation after adding x. */
function neumaier(sum: number, compensation: number, x: number): [number, number] {
  const t = sum + x;
  const c = Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
  return [t, compensation + c];
}

/** Rows gathered column by column until a batch is full. */
class ColumnBatch {
  rows = 0;
  readonly numeric = new Map<string, Float64Array>();
  readonly categorical = new Map<string, (string | null)[]>();

  constructor(features: readonly SummaryFeature[]) {
    for (const f of features) {
      if (f.kind === 'numeric') this.numeric.set(f.name, new Float64Array(BATCH_ROWS));
      else this.categorical.set(f.name, new Array<string | null>(BATCH_ROWS).fill(null));
    }
  }

  /** The gathered rows as columns (views of the buffers: add them before gathering more). */
  columns(): Record<string, Float64Array | (string | null)[]> {
    const out: Record<string, Float64Array | (string | null)[]> = {};
    for (const [name, c] of this.numeric) out[name] = c.subarray(0, this.rows);
    for (const [name, c] of this.categorical) out[name] = this.rows === BATCH_ROWS ? c : c.slice(0, this.rows);
    return out;
  }
}

/**
 * The summary of the prediction-log lines of one window or partition.
 *
 * @example
 *   const part = PredictionWindowSummary.create({ features, outputKind: 'categorical', seed: seedOf(hour) });
 *   for (const line of lines) part.add(line);   // a line it cannot use is counted as invalid
 *   store.put(key, JSON.stringify(part));
 *   const whole = texts.map((t) => PredictionWindowSummary.fromJSON(JSON.parse(t))).reduce((a, b) => a.merge(b));
 */
export class PredictionWindowSummary {
  private invalidCount = 0;
  private firstInvalidLine: string | undefined;
  private readonly featureBatch: ColumnBatch;
  private readonly outputBatch: ColumnBatch;

  private constructor(
    readonly options: PredictionSummaryOptions,
    private readonly featureSummary: WindowSummary,
    private readonly outputSummary: WindowSummary,
    private readonly versions: Map<string, VersionTally>,
  ) {
    this.featureBatch = new ColumnBatch(options.features);
    this.outputBatch = new ColumnBatch([{ name: OUTPUT_COLUMN, kind: options.outputKind }]);
  }

  /** An empty summary. @throws InvalidInputError for no features, a feature listed twice or an unknown kind. */
  static create(options: PredictionSummaryOptions): PredictionWindowSummary {
    if (options.features.length === 0) throw new InvalidInputError('a prediction window summary needs at least one feature');
    const features = WindowSummary.create(options.features, { seed: options.seed });
    const output = WindowSummary.create([{ name: OUTPUT_COLUMN, kind: options.outputKind }], { seed: options.seed });
    return new PredictionWindowSummary(options, features, output, new Map());
  }

  /**
   * Adds one validated line. A line whose values do not fit the pipeline (text in a numeric
   * feature, a text output of a regression model) is left out and counted as invalid, the first
   * one described; `where` names it (`<key>:<line>`).
   */
  add(line: PredictionLine, where: string): void {
    const problem = this.problemOf(line);
    if (problem) return this.addInvalid(`${where}: ${problem}`);
    const batch = this.featureBatch;
    const row = batch.rows++;
    for (const [name, column] of batch.numeric) {
      const v = Object.hasOwn(line.features, name) ? line.features[name] : null;
      column[row] = typeof v === 'number' ? v : NaN;
    }
    for (const [name, column] of batch.categorical) {
      const v = Object.hasOwn(line.features, name) ? line.features[name] : null;
      column[row] = v === null ? null : String(v);
    }
    const out = this.outputBatch;
    const p = line.prediction;
    if (this.options.outputKind === 'numeric') out.numeric.get(OUTPUT_COLUMN)![row] = p as number;
    else out.categorical.get(OUTPUT_COLUMN)![row] = String(p);
    out.rows++;
    let tally = this.versions.get(line.version);
    if (!tally) {
      tally = new VersionTally(new QuantileSketch({ seed: seedOf(`latency ${line.version}`, this.options.seed) }));
      this.versions.set(line.version, tally);
    }
    tally.add(line.latencyMs, line.cost);
    if (batch.rows === BATCH_ROWS) this.flush();
  }

  /** Counts a line that is not a valid prediction line (or not of this model), the first one described. */
  addInvalid(why: string): void {
    this.invalidCount++;
    this.firstInvalidLine ??= why;
  }

  /** Rows summarised. */
  get rows(): number {
    this.flush();
    return this.featureSummary.rows;
  }
  /** Lines left out as invalid, and what is wrong with the first. */
  get invalid(): { invalidLines: number; firstInvalid?: string } {
    return { invalidLines: this.invalidCount, ...(this.firstInvalidLine ? { firstInvalid: this.firstInvalidLine } : {}) };
  }
  /** The features' summary. */
  get features(): WindowSummary {
    this.flush();
    return this.featureSummary;
  }
  /** The model output's summary: one column, {@link OUTPUT_COLUMN}. */
  get output(): WindowSummary {
    this.flush();
    return this.outputSummary;
  }

  /**
   * Volume, latency and cost per version, sorted by version, as the exact serving summary has
   * them: counts, mean, maximum and cost exact; p50 and p95 from the latency sketch, within its
   * rank error of the nearest-rank percentile.
   */
  serving(): VersionServing[] {
    return [...this.versions]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([version, t]) => ({
        version,
        predictions: t.predictions,
        latencyMs: { mean: t.latencyTotal / t.predictions, p50: t.latency.quantile(0.5), p95: t.latency.quantile(0.95), max: t.latencyMax },
        cost: { total: t.cost, perPrediction: t.costCounted ? t.cost / t.costCounted : null, counted: t.costCounted },
      }));
  }

  /** The largest rank error of the latency sketches (0 while every one is exact). */
  get latencyRankError(): number {
    return Math.max(0, ...[...this.versions.values()].map((t) => t.latency.rankError));
  }

  /**
   * Merges `other` (another partition of the same window and pipeline) into this one and
   * returns this; `other` is not changed.
   * @throws InvalidInputError when the features or the output kind differ.
   */
  merge(other: PredictionWindowSummary): this {
    if (other === this) return this.merge(PredictionWindowSummary.fromJSON(this.toJSON()));
    // Checked before anything changes (the features are checked by their own merge, first).
    if (other.options.outputKind !== this.options.outputKind)
      throw new InvalidInputError(`cannot merge summaries of a ${this.options.outputKind} and a ${other.options.outputKind} model output`);
    this.features.merge(other.features);
    this.output.merge(other.output);
    for (const [version, theirs] of other.versions) {
      const mine = this.versions.get(version);
      // Merging leaves `theirs` as it is; a version new here gets a copy, never `theirs` itself.
      if (mine) mine.merge(theirs);
      else this.versions.set(version, VersionTally.restore(versionJson(theirs)));
    }
    this.invalidCount += other.invalidCount;
    this.firstInvalidLine ??= other.firstInvalidLine;
    return this;
  }

  /** The summary as plain JSON (see {@link predictionWindowSummarySchema}). */
  toJSON(): PredictionWindowSummaryJson {
    return {
      kind: SUMMARY_KIND,
      seed: this.options.seed,
      outputKind: this.options.outputKind,
      features: this.features.toJSON(),
      output: this.output.toJSON(),
      versions: [...this.versions].map(([version, t]) => ({ version, ...versionJson(t) })),
      invalidLines: this.invalidCount,
      firstInvalid: this.firstInvalidLine ?? null,
    };
  }

  /**
   * Reads a summary written by {@link toJSON}, in this process or another.
   * @param source names the input in the error, e.g. the store key.
   * @throws InvalidInputError naming each field that is wrong.
   */
  static fromJSON(value: unknown, source = 'prediction window summary'): PredictionWindowSummary {
    const parsed = predictionWindowSummarySchema.safeParse(value);
    if (!parsed.success) throw new InvalidInputError(formatIssues(source, parsed.error.issues));
    const json = parsed.data;
    const features = WindowSummary.fromJSON(json.features, `${source}: features`);
    const output = WindowSummary.fromJSON(json.output, `${source}: output`);
    const versions = new Map(json.versions.map((v) => [v.version, VersionTally.restore(v)]));
    const options = { features: features.features, outputKind: json.outputKind, seed: json.seed };
    const summary = new PredictionWindowSummary(options, features, output, versions);
    summary.invalidCount = json.invalidLines;
    summary.firstInvalidLine = json.firstInvalid ?? undefined;
    return summary;
  }

  /** Why a valid line cannot be summarised for this pipeline, or null. */
  private problemOf(line: PredictionLine): string | null {
    for (const name of this.featureBatch.numeric.keys()) {
      const v = Object.hasOwn(line.features, name) ? line.features[name] : null;
      if (typeof v === 'string')
        return `features.${name}: the pipeline declares it numeric, got the text ${JSON.stringify(v.slice(0, 40))}`;
    }
    if (this.options.outputKind === 'numeric' && typeof line.prediction !== 'number')
      return `prediction: a regression model's output must be a number, got ${JSON.stringify(String(line.prediction).slice(0, 40))}`;
    return null;
  }

  /** Adds the gathered rows to the summaries. */
  private flush(): void {
    if (this.featureBatch.rows === 0) return;
    this.featureSummary.add(this.featureBatch.columns());
    this.outputSummary.add(this.outputBatch.columns());
    this.featureBatch.rows = 0;
    this.outputBatch.rows = 0;
  }
}

function versionJson(t: VersionTally): Omit<z.infer<typeof versionSchema>, 'version'> {
  return {
    predictions: t.predictions,
    latency: { sum: t.latencyTotal, max: t.latencyMax, sketch: t.latency.toJSON() },
    cost: { total: t.cost, counted: t.costCounted },
  };
}

const SUMMARY_KIND = 'retrain.prediction-window-summary/v1';
const count = z.number().int().nonnegative();

const versionSchema = z.strictObject({
  version: z.string().min(1),
  predictions: count.min(1),
  latency: z.strictObject({ sum: z.number().nonnegative(), max: z.number().nonnegative(), sketch: quantileSketchSchema }),
  cost: z.strictObject({ total: z.number().nonnegative(), counted: count }),
});

/** The JSON form of a {@link PredictionWindowSummary}. */
export const predictionWindowSummarySchema = z
  .strictObject({
    kind: z.literal(SUMMARY_KIND),
    seed: z.number().int().nonnegative().max(4294967295),
    outputKind: z.enum(['numeric', 'categorical']),
    features: windowSummarySchema,
    output: windowSummarySchema,
    versions: z.array(versionSchema),
    invalidLines: count,
    firstInvalid: z.string().nullable(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (s.output.rows !== s.features.rows) issue(['output', 'rows'], `${s.output.rows} rows, the features ${s.features.rows}`);
    const total = s.versions.reduce((a, v) => a + v.predictions, 0);
    if (total !== s.features.rows) issue(['versions'], `count ${total} predictions in a summary of ${s.features.rows} rows`);
    s.versions.forEach((v, i) => {
      if (v.latency.sketch.n !== v.predictions)
        issue(['versions', i, 'latency'], `sketch of ${v.latency.sketch.n} for ${v.predictions} predictions`);
      if (v.latency.sketch.max !== v.latency.max)
        issue(['versions', i, 'latency', 'max'], `${v.latency.max}, the sketch's maximum ${v.latency.sketch.max}`);
      if (v.cost.counted > v.predictions) issue(['versions', i, 'cost', 'counted'], `more than the ${v.predictions} predictions`);
    });
    if (new Set(s.versions.map((v) => v.version)).size !== s.versions.length) issue(['versions'], 'a version appears twice');
    const output = s.output.columns;
    if (output.length !== 1 || output[0].name !== OUTPUT_COLUMN || output[0].kind !== s.outputKind)
      issue(['output', 'columns'], `must be the one ${s.outputKind} column '${OUTPUT_COLUMN}'`);
  });

/** {@link predictionWindowSummarySchema} as a type. */
export type PredictionWindowSummaryJson = z.infer<typeof predictionWindowSummarySchema>;
