// Point-in-time windows: which rows of a source a run reads, given its `asOf`. Pure (no clock
// of its own, no I/O, no Temporal), so the workflow, the snapshot and the entry points share it.
import { z } from 'zod';
import { durationToMs } from './duration';
import { InvalidInputError } from './errors';
import type { SourceWindow } from './pipeline';

/**
 * A source window resolved against a run's asOf: the rows whose `column` is in [`from`, `to`).
 * Both bounds are ISO-8601 UTC (`2026-10-01T00:00:00.000Z`); `from` is null when the window has
 * no `last` (every row before `to`).
 */
export interface ResolvedWindow {
  column: string;
  from: string | null;
  to: string;
}

/**
 * The bounds of `window` for a run as of `asOf` (ISO-8601: a date, or a time; no zone means UTC):
 * `to` is asOf, `from` is asOf minus `last` (null without `last`). Throws InvalidInputError when
 * asOf is not a time.
 */
export function resolveWindow(window: SourceWindow, asOf: string): ResolvedWindow {
  const to = isoTimeMs(asOf.trim());
  if (to === null) throw new InvalidInputError(`asOf "${asOf}" is not an ISO-8601 date or time`, { step: 'pull' });
  return {
    column: window.column,
    from: window.last === undefined ? null : new Date(to - durationToMs(window.last)).toISOString(),
    to: new Date(to).toISOString(),
  };
}

/**
 * Milliseconds since the epoch of a timestamp cell as our readers produce it, or null for an
 * empty or missing cell and for text that is not a timestamp (the caller tells these apart by the
 * cell: `cell === null || cell.trim() === ''` is missing).
 *
 * Read as timestamps:
 * - ISO-8601 dates, `2026-10-01`: midnight UTC.
 * - ISO-8601 times, `T` or a space between date and time, seconds and fraction optional:
 *   `2026-10-01T12:30:00Z`, `2026-10-01 12:30:00.123456+02:00`, `…+0200`, `…+02`. No zone means
 *   UTC (PostgreSQL's `timestamp`, rendered `2026-10-01T12:30:00`; its `timestamptz` is rendered
 *   with `Z`). Digits past milliseconds are dropped, not rounded.
 * - Epoch numbers, told apart by their digits: 9 to 11 digits before any decimal point are
 *   seconds, 12 to 14 are milliseconds (both cover 1973-03-03 to the year 5138). Other numbers,
 *   such as a year (`2026`) or a compact date (`20261001`), are not timestamps: write ISO-8601.
 * - PostgreSQL's `infinity` and `-infinity`: after and before every window bound.
 */
export function timestampOf(cell: string | null): number | null {
  if (cell === null) return null;
  const text = cell.trim();
  if (text === '') return null;
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  const epoch = EPOCH.exec(text);
  if (epoch) return epochMs(epoch[1]!, epoch[2] ?? '');
  return isoTimeMs(text);
}

/**
 * Whether a timestamp (from {@link timestampOf}) is in the window: `from` inclusive, `to`
 * exclusive. A missing timestamp (null) is in no window.
 */
export function inWindow(ms: number | null, resolved: ResolvedWindow): boolean {
  if (ms === null || Number.isNaN(ms)) return false;
  const { fromMs, toMs } = boundsOf(resolved);
  return ms >= fromMs && ms < toMs;
}

/** A resolved window as a person reads it: `rows with labelled_at in [2026-07-03T…Z, 2026-10-01T…Z)`. */
export function describeWindow(resolved: ResolvedWindow): string {
  return resolved.from === null
    ? `rows with ${resolved.column} before ${resolved.to}`
    : `rows with ${resolved.column} in [${resolved.from}, ${resolved.to})`;
}

/** A date, or a time with its zone: what `--as-of` and the API's `asOf` say, e.g. `2026-10-01`, `2026-10-01T12:00:00+02:00`. */
const AS_OF_FORMS = 'a date (2026-10-01, midnight UTC) or an ISO-8601 time with its zone (2026-10-01T12:00:00Z, 2026-10-01T14:00:00+02:00)';

/**
 * A run's `asOf` as a person or a client gives it (`retrain run --as-of`, the API's `asOf`, the
 * workflow input): a date or an ISO-8601 time with a zone (a time without one is ambiguous and
 * refused), not after `now()`. Normalised to ISO-8601 UTC (`2026-10-01T00:00:00.000Z`).
 *
 * @param now milliseconds since the epoch, read when a value is checked; the workflow passes its
 *   start time, so a run cannot read data from after it started
 * @default now: `Date.now`
 */
export function asOfSchema(now: () => number = Date.now) {
  return z.string({ error: `expected ${AS_OF_FORMS}` }).transform((given, ctx) => {
    const text = given.trim();
    const ms = AS_OF_DATE.test(text) || AS_OF_TIME.test(text) ? isoTimeMs(text) : null;
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected ${AS_OF_FORMS}; got "${given.length > 60 ? `${given.slice(0, 57)}...` : given}"` });
      return z.NEVER;
    }
    const current = now();
    if (ms > current) {
      ctx.addIssue({
        code: 'custom',
        message: `${new Date(ms).toISOString()} is in the future (now: ${new Date(current).toISOString()}): a run reads data as it was at a time that has passed`,
      });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });
}

/**
 * Why an explicit asOf cannot apply to a pipeline's training source, or null. A source without a
 * window reads every row whatever the asOf, so a "backfill" of it would silently train on today's
 * data.
 */
export function asOfProblem(model: string, window: SourceWindow | undefined): string | null {
  if (window) return null;
  return `pipeline ${model} has no source.window, so an asOf would not change which rows it reads: add source: { …, window: { column: "<timestamp column>" } } to backfill it`;
}

const AS_OF_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A time with its zone: a zoneless time from a person is ambiguous. */
const AS_OF_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const EPOCH = /^(\d{9,14})(?:\.(\d+))?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Milliseconds of an ISO-8601 date or time (no zone: UTC), or null when it is not one or not a real date. */
function isoTimeMs(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => (v === undefined ? 0 : Number(v)));
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month! - 1];
  if (days === undefined || day! < 1 || day! > days || hour! > 23 || minute! > 59 || second! > 59) return null;
  const offset = zoneOffsetMs(m[8]);
  if (offset === null) return null;
  const date = new Date(Date.UTC(2000, month! - 1, day!, hour!, minute!, second!, Number((m[7] ?? '').padEnd(3, '0').slice(0, 3))));
  // Date.UTC reads years 0-99 as 1900-1999: the year is set on its own.
  date.setUTCFullYear(year!);
  return date.getTime() - offset;
}

/** Milliseconds east of UTC of `Z`, `+02:00`, `+0200` or `+02` (0 without a zone), or null when out of range. */
function zoneOffsetMs(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  if (hours > 23 || minutes > 59) return null;
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** Epoch seconds (9-11 digits) or milliseconds (12-14 digits); a fraction of a second is kept to the millisecond. */
function epochMs(whole: string, fraction: string): number {
  if (whole.length >= 12) return Number(whole);
  return Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
}

/** The bounds of a resolved window in milliseconds, parsed once per window rather than once per row. */
const bounds = new WeakMap<ResolvedWindow, { fromMs: number; toMs: number; key: string }>();
function boundsOf(resolved: ResolvedWindow): { fromMs: number; toMs: number } {
  const key = `${resolved.from}|${resolved.to}`;
  let b = bounds.get(resolved);
  if (!b || b.key !== key) {
    const toMs = isoTimeMs(resolved.to);
    const fromMs = resolved.from === null ? -Infinity : isoTimeMs(resolved.from);
    if (toMs === null || fromMs === null)
      throw new InvalidInputError(`window bounds [${resolved.from}, ${resolved.to}) are not ISO-8601 times`, { step: 'pull' });
    b = { fromMs, toMs, key };
    bounds.set(resolved, b);
  }
  return b;
}
