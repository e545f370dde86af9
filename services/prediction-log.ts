import { keys } from '../lib/keys';
import { PredictionColumnsBuilder, type PredictionColumns } from '../lib/prediction-columns';
import { partitionsOverlapping, safeParsePredictionLine, type PredictionLine } from '../lib/prediction-log';
import type { Store } from '../store/store';
import { checkRange, forEachInOrder, forEachLine, forEachLogLine, InvalidLines } from './log-batches';

/** The prediction-log lines of one model in a time window, as columns for drift statistics. */
export interface PredictionWindow extends PredictionColumns {
  model: string;
  /** The window, ISO-8601: from ≤ timestamp < to. */
  from: string;
  to: string;
  /** Batch files read. */
  files: number;
  /** Lines that are not valid prediction lines (or belong to another model); not in the columns. */
  invalidLines: number;
  /** Where the first invalid line is and what is wrong with it (`<key>:<line>: <field>: <problem>`). */
  firstInvalid?: string;
  /** Valid lines in the window; `rows` of them are in the columns. */
  seen: number;
  /** True when the window held more than `maxRows` lines and the columns are a uniform sample. */
  sampled: boolean;
}

/**
 * Reads the prediction log of `model` for from ≤ timestamp < to: lists only the hour (or
 * whole-day) partitions that overlap the window, reads each batch file and parses it line by
 * line (one small file in memory at a time), and accumulates the lines in the window into
 * columns. Invalid lines are counted and the first one described, never silently dropped.
 * With `maxRows`, a window of more lines keeps a uniform sample of `maxRows` of them, the same
 * one for the same `seed` (default 0), so memory stays bounded.
 */
export async function readPredictionWindow(
  store: Store,
  model: string,
  window: { from: Date; to: Date; maxRows?: number; seed?: number },
): Promise<PredictionWindow> {
  const { from, to, maxRows, seed = 0 } = window;
  checkRange(from, to, 'prediction window', model);
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const builder = new PredictionColumnsBuilder(maxRows === undefined ? undefined : { maxRows, seed });
  const invalid = new InvalidLines();
  const prefixes = partitionsOverlapping(from, to).map((p) => keys.predictionPartition(model, p));
  const files = await forEachLogLine(store, prefixes, (text, key, lineNumber) => {
    const parsed = safeParsePredictionLine(text, `${key}:${lineNumber}`);
    if (!parsed.ok) return invalid.add(parsed.error);
    if (parsed.line.model !== model) return invalid.add(`${key}:${lineNumber}: belongs to model ${parsed.line.model}, not ${model}`);
    const at = Date.parse(parsed.line.timestamp);
    if (at >= fromMs && at < toMs) builder.add(parsed.line, at);
  });

  const seen = builder.seen;
  return {
    model,
    from: from.toISOString(),
    to: to.toISOString(),
    files,
    ...builder.build(),
    seen,
    sampled: seen > builder.size,
    ...invalid.summary(),
  };
}

/** What concept drift needs of one logged prediction. */
export interface PredictionOfId {
  version: string;
  prediction: PredictionLine['prediction'];
  scores?: Record<string, number>;
}

/** The predictions of a set of ids found in a time range of the prediction log. */
export interface PredictionsById {
  /** The prediction of each id found (the last one read when an id was logged more than once). */
  predictions: Map<string, PredictionOfId>;
  /** Batch files read. */
  files: number;
  /** Non-blank lines scanned (most of them only as far as their id). */
  scanned: number;
  /**
   * Lines left out as invalid: those whose id cannot be read, and those of a wanted id that are
   * not valid prediction lines (or belong to another model). Lines of other ids are not validated.
   */
  invalidLines: number;
  /** Where the first invalid line is and what is wrong with it (`<key>:<line>: <field>: <problem>`). */
  firstInvalid?: string;
}

/** The start of a line as Retrain writes it (`id` is the schema's first field). */
const ID_PREFIX = '{"id":"';

/**
 * The id of a prediction-log line, read cheaply: from its first field when the line starts with
 * `{"id":"…"` (as Retrain writes them), else by parsing the JSON. Undefined when the line has
 * no string id (it is then invalid).
 */
function idOfLine(text: string): string | undefined {
  if (text.startsWith(ID_PREFIX)) {
    const end = text.indexOf('"', ID_PREFIX.length);
    const raw = end < 0 ? '' : text.slice(ID_PREFIX.length, end);
    if (end >= 0 && !raw.includes('\\')) return raw;
  }
  try {
    const value: unknown = JSON.parse(text);
    const id = value !== null && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the logged predictions of `ids` made in from ≤ timestamp < to: lists only the hour (or
 * whole-day) partitions that overlap the range, like {@link readPredictionWindow}, and scans each
 * batch line by line, reading only the id of a line and keeping (after validating it) only a line
 * whose id is wanted. Memory grows with the ids found, not with the range, so a long range (the
 * predictions a late label may belong to) stays cheap.
 */
export async function readPredictionsById(
  store: Store,
  model: string,
  range: { from: Date; to: Date },
  ids: ReadonlySet<string>,
): Promise<PredictionsById> {
  const { from, to } = range;
  checkRange(from, to, 'prediction range', model);
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const predictions = new Map<string, PredictionOfId>();
  const invalid = new InvalidLines();
  let scanned = 0;
  if (ids.size === 0) return { predictions, files: 0, scanned, invalidLines: 0 };

  const prefixes = partitionsOverlapping(from, to).map((p) => keys.predictionPartition(model, p));
  const files = await forEachLogLine(store, prefixes, (text, key, lineNumber) => {
    scanned++;
    const id = idOfLine(text);
    if (id === undefined) {
      const parsed = safeParsePredictionLine(text, `${key}:${lineNumber}`);
      return invalid.add(parsed.ok ? `${key}:${lineNumber}: no id` : parsed.error);
    }
    if (!ids.has(id)) return;
    const parsed = safeParsePredictionLine(text, `${key}:${lineNumber}`);
    if (!parsed.ok) return invalid.add(parsed.error);
    const line = parsed.line;
    if (line.model !== model) return invalid.add(`${key}:${lineNumber}: belongs to model ${line.model}, not ${model}`);
    const at = Date.parse(line.timestamp);
    if (!(at >= fromMs && at < toMs)) return;
    predictions.set(line.id, { version: line.version, prediction: line.prediction, ...(line.scores ? { scores: line.scores } : {}) });
  });
  return { predictions, files, scanned, ...invalid.summary() };
}

/** Where a prediction was found: the line, its batch file and line number. */
export interface FoundPrediction {
  line: PredictionLine;
  key: string;
  lineNumber: number;
}

/**
 * Finds the prediction with `id` by scanning the log of `model` (or of every model), newest
 * batches first; `at` (a UTC day 'YYYY-MM-DD' or hour 'YYYY-MM-DDTHH') limits the scan to the
 * batches of that day or hour, which matters on a large log. Returns null when no valid line has
 * that id; `invalid` then tells whether a line with the id exists but is malformed.
 */
export async function findPrediction(
  store: Store,
  id: string,
  opts: { model?: string; at?: string } = {},
): Promise<{ found: FoundPrediction | null; invalid?: string; files: number }> {
  const { model, at } = opts;
  let batchKeys = await store.list(model ? (at ? keys.predictionPartition(model, at) : keys.predictions(model)) : 'predictions/');
  if (at && !model) {
    // Every model's partition of that day or hour: keys are predictions/<model>/…
    batchKeys = batchKeys.filter((k) => k.startsWith(keys.predictionPartition(k.split('/')[1]!, at)));
  }
  batchKeys.reverse();
  // A cheap byte search first: only a file that contains the id as a JSON string is parsed.
  const needle = Buffer.from(JSON.stringify(id));
  let found: FoundPrediction | null = null;
  let invalid: string | undefined;
  let files = 0;
  await forEachInOrder(
    batchKeys,
    (key) => store.get(key),
    (key, body) => {
      if (!body || found) return;
      files++;
      if (!body.includes(needle)) return;
      forEachLine(body, (text, lineNumber) => {
        if (found || !text.includes(needle.toString())) return;
        const parsed = safeParsePredictionLine(text, `${key}:${lineNumber}`);
        if (parsed.ok && parsed.line.id === id) found = { line: parsed.line, key, lineNumber };
        else if (!parsed.ok) invalid ??= parsed.error;
      });
    },
    () => found !== null,
  );
  return { found, ...(invalid && !found ? { invalid } : {}), files };
}
