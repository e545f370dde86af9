/**
 * A mergeable summary of prediction-log lines, for drift checks on windows larger than one
 * worker's memory: each partition (a UTC hour) of the window is summarised by whichever worker
 * runs its activity, the summaries travel through the store as JSON and merge in any order, and
 * the check tests the merged summary (lib/drift/approximate-drift.ts). Pure code.
 *
 * It keeps the features and the model's output as window summaries (exact counts, exact
 * moments and a quantile sketch per numeric column; exact label counts per categorical one),
 * and per model version the serving figures: predictions, latency (exact mean and maximum,
 * percentiles from a sketch) and cost (exact total). For a classifier it also keeps, per version,
 * histograms of the logged scores (lib/performance-estimation/binned.ts), from which the check
 * estimates the champion's performance without labels once it knows its calibration.
 */

import { z } from 'zod';
import { WindowSummary, windowSummarySchema, type SummaryFeature } from './drift/window-summary';
import { QuantileSketch, quantileSketchSchema, seedOf } from './drift/quantile-sketch';
import { formatIssues, InvalidInputError } from './errors';
import type { FeatureKind } from './feature-kind';
import { type BinnedScores, HISTOGRAM_LENGTH, scoreBin } from './performance-estimation';
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
  readonly scores = new ScoreHistograms();

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
    this.scores.merge(other.scores);
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
    for (const h of json.scoreHistograms ?? []) tally.scores.restore(h);
    return tally;
  }
}

/** Which histogram: the score binned (a class of `scores`, or null for `score`) and the predicted label it counts. */
type HistogramKey = z.infer<typeof histogramSchema>['scoresClass' | 'predicted'];

/**
 * One version's logged scores, binned by scoreBin: for `score`, one histogram per predicted label
 * (the positive class is not known yet); for each class c of `scores`, one of the lines that
 * predicted c and one of the others (predicted: null). Counts are whole numbers, so merging by
 * adding is exact in any order.
 */
class ScoreHistograms {
  /** By score binned, then by predicted label. */
  private readonly bySource = new Map<HistogramKey, Map<HistogramKey, Float64Array>>();

  add(line: PredictionLine): void {
    const predicted = String(line.prediction);
    if (line.score !== undefined) this.count(null, predicted, scoreBin(line.score), 1);
    for (const c in line.scores) this.count(c, predicted === c ? c : null, scoreBin(line.scores[c]!), 1);
  }

  merge(other: ScoreHistograms): void {
    for (const h of other.toJSON()) this.restore(h);
  }

  /** Adds a stored histogram. */
  restore(h: z.infer<typeof histogramSchema>): void {
    h.bins.forEach((bin, i) => this.count(h.scoresClass, h.predicted, bin, h.counts[i]!));
  }

  /** Whether any line logged this score: a class of `scores`, or null for `score`. */
  has(source: HistogramKey): boolean {
    return this.bySource.has(source);
  }

  /** The histograms of one score, split by whether the line predicted `positiveClass`. */
  split(source: HistogramKey, positiveClass: string): BinnedScores {
    const out = { predictedPositive: new Float64Array(HISTOGRAM_LENGTH), predictedNegative: new Float64Array(HISTOGRAM_LENGTH) };
    for (const [predicted, counts] of this.bySource.get(source) ?? []) {
      const into = predicted === positiveClass ? out.predictedPositive : out.predictedNegative;
      counts.forEach((c, k) => (into[k]! += c));
    }
    return out;
  }

  /** Sparse, in a fixed order (so equal histograms write equal JSON whatever order they merged in). */
  toJSON(): z.infer<typeof histogramSchema>[] {
    const out: z.infer<typeof histogramSchema>[] = [];
    for (const [scoresClass, byPredicted] of this.bySource) {
      for (const [predicted, counts] of byPredicted) {
        const bins: number[] = [];
        counts.forEach((c, k) => c > 0 && bins.push(k));
        out.push({ scoresClass, predicted, bins, counts: bins.map((k) => counts[k]!) });
      }
    }
    const order = (k: HistogramKey) => (k === null ? '' : ` ${k}`);
    return out.sort((a, b) => compare(order(a.scoresClass), order(b.scoresClass)) || compare(order(a.predicted), order(b.predicted)));
  }

  private count(source: HistogramKey, predicted: HistogramKey, bin: number, rows: number): void {
    let byPredicted = this.bySource.get(source);
    if (!byPredicted) this.bySource.set(source, (byPredicted = new Map()));
    let counts = byPredicted.get(predicted);
    if (!counts) byPredicted.set(predicted, (counts = new Float64Array(HISTOGRAM_LENGTH)));
    counts[bin]! += rows;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
    if (this.options.outputKind === 'categorical') tally.scores.add(line);
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

  /**
   * A version's positive-class scores binned (lib/performance-estimation/binned.ts), read as the
   * exact check reads them: `scores[positiveClass]` when any line of the window logged it, else
   * `score`. Null when no line logged that score or the version made no prediction; the version's
   * predictions without it are `missingScores`.
   */
  binnedScores(version: string, positiveClass: string): (BinnedScores & { missingScores: number }) | null {
    const tally = this.versions.get(version);
    const tallies = [...this.versions.values()];
    const source = tallies.some((t) => t.scores.has(positiveClass))
      ? positiveClass
      : tallies.some((t) => t.scores.has(null))
        ? null
        : undefined;
    if (!tally || source === undefined) return null;
    const binned = tally.scores.split(source, positiveClass);
    let counted = 0;
    for (let k = 0; k < HISTOGRAM_LENGTH; k++) counted += binned.predictedPositive[k]! + binned.predictedNegative[k]!;
    return { ...binned, missingScores: tally.predictions - counted };
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
  const scoreHistograms = t.scores.toJSON();
  return {
    predictions: t.predictions,
    latency: { sum: t.latencyTotal, max: t.latencyMax, sketch: t.latency.toJSON() },
    cost: { total: t.cost, counted: t.costCounted },
    ...(scoreHistograms.length > 0 ? { scoreHistograms } : {}),
  };
}

const SUMMARY_KIND = 'retrain.prediction-window-summary/v1';
const count = z.number().int().nonnegative();

/** One histogram of a version's scores, sparse: the bins with rows (scoreBin), ascending, and their rows. */
const histogramSchema = z.strictObject({
  /** The class of `scores` whose score is binned; null: the line's `score`. */
  scoresClass: z.string().nullable(),
  /** Lines that predicted this label; null (with a class only): lines that predicted another label. */
  predicted: z.string().nullable(),
  bins: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(HISTOGRAM_LENGTH - 1),
    )
    .min(1, 'must name at least one bin: a histogram with no rows is left out'),
  counts: z.array(count.min(1)),
});

const versionSchema = z.strictObject({
  version: z.string().min(1),
  predictions: count.min(1),
  latency: z.strictObject({ sum: z.number().nonnegative(), max: z.number().nonnegative(), sketch: quantileSketchSchema }),
  cost: z.strictObject({ total: z.number().nonnegative(), counted: count }),
  /** Classifiers only; absent in summaries written before scores were binned. */
  scoreHistograms: z.array(histogramSchema).optional(),
});

/** Reports what is wrong with a version's score histograms, at paths under `at`. */
function checkHistograms(
  v: z.infer<typeof versionSchema>,
  outputKind: FeatureKind,
  at: PropertyKey[],
  issue: (path: PropertyKey[], message: string) => void,
): void {
  const histograms = v.scoreHistograms;
  if (!histograms) return;
  if (outputKind === 'numeric') return issue(at, "a regression model's summary has no score histograms");
  const rowsOf = new Map<string | null, number>();
  const seen = new Set<string>();
  histograms.forEach((h, j) => {
    const here = [...at, j];
    const what = h.scoresClass === null ? 'score' : `scores.${h.scoresClass}`;
    if (h.counts.length !== h.bins.length)
      issue([...here, 'counts'], `has ${h.counts.length} entries and bins ${h.bins.length}: there must be one count per bin`);
    const unordered = h.bins.findIndex((b, i) => i > 0 && !(b > h.bins[i - 1]!));
    if (unordered > 0)
      issue([...here, 'bins', unordered], `bins must be strictly ascending: ${h.bins[unordered]} follows ${h.bins[unordered - 1]}`);
    if (h.scoresClass === null && h.predicted === null)
      issue([...here, 'predicted'], 'a histogram of score counts the lines of one predicted label: it cannot be null');
    if (h.scoresClass !== null && h.predicted !== null && h.predicted !== h.scoresClass)
      issue(
        [...here, 'predicted'],
        `a histogram of ${what} counts the lines that predicted ${JSON.stringify(h.scoresClass)} or the others (null), not ${JSON.stringify(h.predicted)}`,
      );
    const key = JSON.stringify([h.scoresClass, h.predicted]);
    if (seen.has(key)) issue(here, `a second histogram of ${what} for predicted ${JSON.stringify(h.predicted)}`);
    seen.add(key);
    rowsOf.set(h.scoresClass, (rowsOf.get(h.scoresClass) ?? 0) + h.counts.reduce((a, c) => a + c, 0));
  });
  for (const [scoresClass, rows] of rowsOf) {
    if (rows > v.predictions)
      issue(at, `bin ${rows} scores of ${scoresClass === null ? 'score' : `scores.${scoresClass}`} for ${v.predictions} predictions`);
  }
}

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
      checkHistograms(v, s.outputKind, ['versions', i, 'scoreHistograms'], issue);
    });
    if (new Set(s.versions.map((v) => v.version)).size !== s.versions.length) issue(['versions'], 'a version appears twice');
    const output = s.output.columns;
    if (output.length !== 1 || output[0].name !== OUTPUT_COLUMN || output[0].kind !== s.outputKind)
      issue(['output', 'columns'], `must be the one ${s.outputKind} column '${OUTPUT_COLUMN}'`);
  });

/** {@link predictionWindowSummarySchema} as a type. */
export type PredictionWindowSummaryJson = z.infer<typeof predictionWindowSummarySchema>;
