/**
 * Scales, ticks and labels for the console's SVG charts. Pure and locale-free: the same data gives
 * the same markup on every server, so dates are formatted in UTC by hand, not by Intl.
 */

/** A map from a data domain onto a pixel range. */
export type Scale = (value: number) => number;

/** A linear scale; a zero-width domain maps everything to the middle of the range. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v: number): number => r0 + (v - d0) * k;
}

/** A coordinate rounded to one decimal: shorter markup, and no float noise in the output. */
export function round1(v: number): number {
  const r = Math.round(v * 10) / 10;
  return r === 0 ? 0 : r; // no "-0"
}

/** An element id made of [A-Za-z0-9_-] only, so ids and `url(#…)` references cannot break out. */
export function safeId(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9_-]/g, '-');
  return clean === '' ? 'chart' : clean;
}

/** Text cut to `max` characters (code points, so emoji are not split) with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

/** Smallest and largest, without spreading 10,000 arguments onto the stack. */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** Each nice factor and the largest f it is chosen for: up to itself, or up to the geometric midpoint. */
const AT_LEAST: readonly (readonly [number, number])[] = [
  [1, 1],
  [2, 2],
  [5, 5],
];
const NEAREST: readonly (readonly [number, number])[] = [
  [1, Math.SQRT2],
  [2, Math.sqrt(10)],
  [5, Math.sqrt(50)],
];

/**
 * A 1, 2 or 5 × 10^k step, a step people can add up in their heads: by default the one nearest
 * `rough` (geometrically, as d3 does), so about as many ticks as asked for; 'atLeast' when the
 * count is a hard limit (labels that must fit).
 */
export function niceStep(rough: number, mode: 'nearest' | 'atLeast' = 'nearest'): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const f = rough / pow;
  const nice = (mode === 'atLeast' ? AT_LEAST : NEAREST).find(([, upTo]) => f <= upTo)?.[0] ?? 10;
  return nice * pow;
}

/** Decimals needed to write multiples of a nice step exactly (0.2 → 1, 50 → 0). */
function decimalsOf(step: number): number {
  return Math.max(0, Math.min(20, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Ticks at multiples of a nice step inside [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  if (hi === lo) return [lo];
  const step = niceStep((hi - lo) / Math.max(1, count));
  const dec = decimalsOf(step);
  const eps = step * 1e-9;
  const ticks: number[] = [];
  for (let i = Math.ceil((lo - eps) / step); i * step <= hi + eps; i++) ticks.push(Number((i * step).toFixed(dec)) || 0);
  return ticks;
}

/**
 * A domain for the data: padded by 5% so lines do not run along the frame, widened to nice
 * steps, never crossing zero for data that does not, and a sensible span for one value.
 */
export function niceDomain(values: readonly number[], count = 5): [number, number] {
  if (values.length === 0) return [0, 1];
  const [min, max] = extent(values);
  if (min === max) {
    if (min === 0) return [0, 1];
    const pad = Math.abs(min) * 0.1;
    return niceDomainOf(min - pad, max + pad, min > 0, max < 0, count);
  }
  const pad = (max - min) * 0.05;
  return niceDomainOf(min - pad, max + pad, min >= 0, max <= 0, count);
}

function niceDomainOf(lo: number, hi: number, positive: boolean, negative: boolean, count: number): [number, number] {
  if (positive && lo < 0) lo = 0;
  if (negative && hi > 0) hi = 0;
  const step = niceStep((hi - lo) / count);
  const dec = decimalsOf(step);
  const a = Number((Math.floor(lo / step + 1e-9) * step).toFixed(dec)) || 0;
  const b = Number((Math.ceil(hi / step - 1e-9) * step).toFixed(dec)) || 0;
  return [a, b];
}

/** Up to 4 significant digits: 0.8123, 12.5, 1234; big integers whole, tiny values in e-notation. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e15 || a < 1e-4) return v.toExponential(3).replace(/\.?0+e/, 'e');
  if (a >= 1e4) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

// ---------------------------------------------------------------------------------------------
// Time (UTC)

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday after the epoch: weeks start on Mondays. */
const MONDAY = 4 * DAY;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** 2024-01-05 */
export function formatUtcDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** 2024-01-05 14:03, with seconds only when there are any. */
export function formatUtcDateTime(ms: number): string {
  const d = new Date(ms);
  const s = d.getUTCSeconds();
  return `${formatUtcDate(ms)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}${s ? `:${pad2(s)}` : ''}`;
}

/** A labeller for a set of instants: dates alone when all of them are at midnight UTC. */
export function utcLabeler(instants: readonly number[]): (ms: number) => string {
  return instants.every((t) => t % DAY === 0) ? formatUtcDate : formatUtcDateTime;
}

/** Ticks and the labels that suit their spacing. */
export interface TimeTicks {
  ticks: number[];
  format: (ms: number) => string;
}

type Interval = { approx: number; kind: 'fixed' | 'week' | 'month' | 'year'; step: number };

const INTERVALS: Interval[] = [
  ...[1, 5, 15, 30].map((n): Interval => ({ approx: n * MINUTE, kind: 'fixed', step: n * MINUTE })),
  ...[1, 3, 6, 12].map((n): Interval => ({ approx: n * HOUR, kind: 'fixed', step: n * HOUR })),
  ...[1, 2].map((n): Interval => ({ approx: n * DAY, kind: 'fixed', step: n * DAY })),
  { approx: WEEK, kind: 'week', step: WEEK },
  { approx: 2 * WEEK, kind: 'week', step: 2 * WEEK },
  ...[1, 3, 6].map((n): Interval => ({ approx: n * 30.44 * DAY, kind: 'month', step: n })),
];

const dayLabel = (ms: number): string => {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
};
const timeLabel = (ms: number): string => {
  if (ms % DAY === 0) return dayLabel(ms); // midnight says which day the hours belong to
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
};
const monthLabel = (ms: number): string => {
  const d = new Date(ms);
  return d.getUTCMonth() === 0 ? String(d.getUTCFullYear()) : MONTHS[d.getUTCMonth()]!;
};
const yearLabel = (ms: number): string => String(new Date(ms).getUTCFullYear());

/**
 * At most `maxCount` ticks inside [min, max] on UTC boundaries: whole minutes, hours (3h, 6h and
 * 12h from midnight), days, Mondays (every one, or every other one counted from 1970-01-05),
 * first days of months and quarters, or New Year's days.
 */
export function timeTicks(min: number, max: number, maxCount = 6): TimeTicks {
  const count = Math.max(2, maxCount);
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return { ticks: [], format: formatUtcDate };
  const span = Math.max(max - min, MINUTE);
  const interval = INTERVALS.find((i) => span / i.approx <= count);
  const ticks: number[] = [];
  if (!interval) {
    const step = Math.max(1, niceStep(span / 365.25 / DAY / count, 'atLeast'));
    const first = Math.ceil(new Date(min).getUTCFullYear() / step) * step;
    for (let y = first; ticks.length < 1000; y += step) {
      const t = Date.UTC(y, 0, 1);
      if (t > max) break;
      if (t >= min) ticks.push(t);
    }
    return { ticks, format: yearLabel };
  }
  if (interval.kind === 'month') {
    const d = new Date(min);
    let m = Math.floor(d.getUTCMonth() / interval.step) * interval.step;
    for (let y = d.getUTCFullYear(); ticks.length < 1000; m += interval.step) {
      const t = Date.UTC(y, m, 1);
      if (t > max) break;
      if (t >= min) ticks.push(t);
    }
    return { ticks, format: monthLabel };
  }
  const offset = interval.kind === 'week' ? MONDAY : 0;
  for (let t = Math.ceil((min - offset) / interval.step) * interval.step + offset; t <= max && ticks.length < 1000; t += interval.step) {
    ticks.push(t);
  }
  return { ticks, format: interval.step < DAY ? timeLabel : dayLabel };
}
