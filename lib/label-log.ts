import { z } from 'zod';
import { safeParseJsonLine, type ParsedLine } from './json-lines';

/**
 * The label log: ground truth that arrives after the prediction (a churn label needs the renewal
 * date), posted to the HTTP API one line per label. Concept drift joins it to the prediction log
 * by prediction id. Pure code.
 */

/** A label as a caller posts it. */
export const labelEntrySchema = z.strictObject({
  model: z.string().min(1),
  /** The id the prediction was logged with (the value of the pipeline's id column). */
  id: z.string().min(1).max(200),
  /** The true class (classification) or value (regression). */
  label: z.union([z.string().min(1), z.number()], { error: 'expected a string or a number' }),
  /** When the truth became known, ISO-8601 with `Z` or an offset; labels are stored by this hour. */
  knownAt: z.iso.datetime({ offset: true }),
});
export type LabelEntry = z.infer<typeof labelEntrySchema>;

/** One stored line of the label log. */
export const labelLineSchema = labelEntrySchema.extend({
  label: z.string(),
  /** When the API stored it. */
  receivedAt: z.iso.datetime({ offset: true }),
});
export type LabelLine = z.infer<typeof labelLineSchema>;

/**
 * What makes a label a duplicate: the same prediction and the same knownAt. A corrected label (a
 * later knownAt) is a new line, and the latest one counts.
 */
export function labelKey(line: Pick<LabelLine, 'id' | 'knownAt'>): string {
  return `${line.id}@${new Date(line.knownAt).toISOString()}`;
}

/** The line stored for a label: labels are kept as text, as in a dataset's label column. */
export function labelLine(entry: LabelEntry, receivedAt: Date): LabelLine {
  return { ...entry, label: String(entry.label), receivedAt: receivedAt.toISOString() };
}

/** A label-log line that validated, or the error that says where and why it did not. */
export type ParsedLabelLine = ParsedLine<LabelLine>;

/**
 * Parses one stored line of text without throwing. `where` names it for people (`key:line`);
 * the error names each bad field and what was expected.
 */
export function safeParseLabelLine(text: string, where: string): ParsedLabelLine {
  return safeParseJsonLine(labelLineSchema, text, where, 'label line');
}

/**
 * True when label `a` supersedes label `b` of the same prediction: the later knownAt wins, and
 * on the same knownAt the later receivedAt (a resend of a correction). Instants are compared, not
 * strings, since both may carry an offset.
 */
export function supersedes(a: Pick<LabelLine, 'knownAt' | 'receivedAt'>, b: Pick<LabelLine, 'knownAt' | 'receivedAt'>): boolean {
  const known = Date.parse(a.knownAt) - Date.parse(b.knownAt);
  return known !== 0 ? known > 0 : Date.parse(a.receivedAt) > Date.parse(b.receivedAt);
}
