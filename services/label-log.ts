import { InvalidInputError } from '../lib/errors';
import { keys } from '../lib/keys';
import { safeParseLabelLine, supersedes, type LabelLine } from '../lib/label-log';
import { partitionsOverlapping } from '../lib/prediction-log';
import type { Store } from '../store/store';

/** Batch files fetched at a time (they are small: one API request each). */
const READ_AHEAD = 8;

/** The labels of one model that became known in a time window, as concept drift joins them. */
export interface LabelWindow {
  /** The label of each prediction id: its latest one in the window (see {@link readLabels}). */
  labels: Map<string, string>;
  /** Valid lines in the window (a corrected label counts once per line). */
  lines: number;
  /** Batch files read. */
  files: number;
  /** Lines that are not valid label lines (or belong to another model); not in `labels`. */
  invalidLines: number;
  /** Where the first invalid line is and what is wrong with it (`<key>:<line>: <field>: <problem>`). */
  firstInvalid?: string;
}

/**
 * Reads the label log of `model` for from ≤ knownAt < to: lists only the hour (or whole-day)
 * partitions that overlap the window (labels are stored by the UTC hour they became known),
 * parses each batch line by line and keeps, per prediction id, the label with the latest
 * knownAt (on the same knownAt, the later receivedAt; on a full tie, the first one read, batch
 * keys in listing order). Invalid lines are counted and the first one described, never silently
 * dropped.
 */
export async function readLabels(store: Store, model: string, window: { from: Date; to: Date }): Promise<LabelWindow> {
  const { from, to } = window;
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to) {
    throw new InvalidInputError(`label window of ${model} must have from <= to, got ${String(from)} .. ${String(to)}`, { model });
  }
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const latest = new Map<string, LabelLine>();
  let lines = 0;
  let files = 0;
  let invalidLines = 0;
  let firstInvalid: string | undefined;
  const invalid = (why: string) => {
    invalidLines++;
    firstInvalid ??= why;
  };

  const batchKeys: string[] = [];
  for (const partition of partitionsOverlapping(from, to)) batchKeys.push(...(await store.list(keys.labelPartition(model, partition))));
  for (let start = 0; start < batchKeys.length; start += READ_AHEAD) {
    const chunk = batchKeys.slice(start, start + READ_AHEAD);
    const bodies = await Promise.all(chunk.map((key) => store.get(key)));
    chunk.forEach((key, i) => {
      const body = bodies[i];
      if (!body) return; // removed since it was listed
      files++;
      body
        .toString('utf8')
        .split('\n')
        .forEach((raw, index) => {
          const text = raw.trim();
          if (!text) return;
          const where = `${key}:${index + 1}`;
          const parsed = safeParseLabelLine(text, where);
          if (!parsed.ok) return invalid(parsed.error);
          const line = parsed.line;
          if (line.model !== model) return invalid(`${where}: belongs to model ${line.model}, not ${model}`);
          const at = Date.parse(line.knownAt);
          if (!(at >= fromMs && at < toMs)) return;
          lines++;
          const kept = latest.get(line.id);
          if (!kept || supersedes(line, kept)) latest.set(line.id, line);
        });
    });
  }

  const labels = new Map<string, string>();
  for (const [id, line] of latest) labels.set(id, line.label);
  return { labels, lines, files, invalidLines, ...(firstInvalid ? { firstInvalid } : {}) };
}
