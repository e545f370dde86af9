import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A duration string such as `90s`, `15m`, `2h` or `1d` (the units Temporal accepts). */
export const durationSchema = z.string().regex(DURATION, 'expected a duration like "500ms", "30s", "15m", "2h" or "1d"');

/** Milliseconds in a duration string validated by `durationSchema`. */
export function durationToMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
