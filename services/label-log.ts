import { randomUUID } from 'node:crypto';
import { formatIssues, InvalidInputError } from '../lib/errors';
import { keys } from '../lib/keys';
import { labelEntrySchema, labelLine, safeParseLabelLine, supersedes, type LabelLine } from '../lib/label-log';
import { isoHour, partitionsOverlapping } from '../lib/prediction-log';
import type { Store } from '../store/store';
import { checkRange, forEachLogLine, InvalidLines } from './log-batches';

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
  checkRange(from, to, 'label window', model);
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const latest = new Map<string, LabelLine>();
  const invalid = new InvalidLines();
  let lines = 0;
  const prefixes = partitionsOverlapping(from, to).map((p) => keys.labelPartition(model, p));
  const files = await forEachLogLine(store, prefixes, (text, key, lineNumber) => {
    const where = `${key}:${lineNumber}`;
    const parsed = safeParseLabelLine(text, where);
    if (!parsed.ok) return invalid.add(parsed.error);
    const line = parsed.line;
    if (line.model !== model) return invalid.add(`${where}: belongs to model ${line.model}, not ${model}`);
    const at = Date.parse(line.knownAt);
    if (!(at >= fromMs && at < toMs)) return;
    lines++;
    const kept = latest.get(line.id);
    if (!kept || supersedes(line, kept)) latest.set(line.id, line);
  });

  const labels = new Map<string, string>();
  for (const [id, line] of latest) labels.set(id, line.label);
  return { labels, lines, files, ...invalid.summary() };
}

/**
 * Stores labels in the label log as the HTTP API does (`POST /v1/labels`): one batch file per UTC
 * hour they became known, one line per label. For scripts and the demo that hold the labels in
 * process; every entry is checked first, so a bad one writes nothing.
 * @throws InvalidInputError naming the entry and field that is wrong.
 */
export async function writeLabels(store: Store, entries: readonly unknown[], receivedAt = new Date()): Promise<number> {
  const lines = entries.map((entry, i) => {
    const parsed = labelEntrySchema.safeParse(entry);
    if (!parsed.success)
      throw new InvalidInputError(formatIssues(`label ${i + 1} of ${entries.length}`, parsed.error.issues), { step: 'labels' });
    return labelLine(parsed.data, receivedAt);
  });
  const batches = new Map<string, LabelLine[]>();
  for (const line of lines) {
    const at = `${line.model} ${isoHour(line.knownAt)}`;
    batches.set(at, [...(batches.get(at) ?? []), line]);
  }
  for (const [at, batch] of batches) {
    const [model, hour] = at.split(' ') as [string, string];
    await store.put(
      keys.labelBatch(model, hour, `${receivedAt.toISOString().replace(/[-:.]/g, '')}-${randomUUID()}`),
      batch.map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
  }
  return lines.length;
}
