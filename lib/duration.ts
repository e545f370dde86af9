/**
 * Durations as pipelines write them (`90s`, `15m`, `2h`, `1d`: the units Temporal accepts). No
 * schema library here: the workflow bundle imports this file (lib/pipeline.ts builds the schema).
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** What a duration string looks like. */
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** The message for a string that is not one. */
export const DURATION_HINT = 'expected a duration like "500ms", "30s", "15m", "2h" or "1d"';

/** Milliseconds in a duration string (one that matches {@link DURATION}); throws on anything else. */
export function durationToMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
