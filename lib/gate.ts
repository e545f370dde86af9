import { higherIsBetter } from './metrics/names';
import type { Pipeline } from './pipeline';

/** A model's metric values by name; null where a metric could not be computed. */
export type Metrics = Record<string, number | null>;

/** One rule of the gate applied to one metric: the values compared, the verdict and a readable message. */
export interface GateCheck {
  metric: string;
  /**
   * `required`: the primary metric must have a value at all; `segmentRegression`: maxRegression
   * in one segment value (`segment`); `latencyRatio`: the challenger's predict latency per row
   * against the champion's (metric `predict_ms_per_row`).
   */
  rule: 'min' | 'max' | 'maxRegression' | 'required' | 'segmentRegression' | 'latencyRatio';
  threshold: number | null;
  challenger: number | null;
  champion: number | null;
  passed: boolean;
  message: string;
  /** The segment value a `segmentRegression` check is about. */
  segment?: { column: string; value: string; rows: number };
}

/** The primary metric of challenger and champion on the holdout rows of one segment value. */
export interface SegmentMetric {
  column: string;
  value: string;
  /** Holdout rows with this value. */
  rows: number;
  challenger: number | null;
  champion: number | null;
}

/** One row of the gate's per-segment table: gated, or shown only and why. */
export interface SegmentGateRow extends SegmentMetric {
  gated: boolean;
  passed: boolean;
  note: string;
}

/** The gate's written verdict: what was checked, the outcome of each check, and why. */
export interface GateDecision {
  passed: boolean;
  reason: string;
  checks: GateCheck[];
  championVersion: string | null;
  /** The per-segment table of a segment gate (pipeline.segmentGate), every segment value in it. */
  segments?: { metric: string; maxRegression: number; minRows: number; rows: SegmentGateRow[] };
}

// Floating-point noise must not fail a tie.
const EPS = 1e-12;

/**
 * Decides whether a challenger may replace the champion. Absolute limits always apply;
 * regression limits apply when there is a champion. The primary metric gets an implicit
 * `maxRegression: 0` (the challenger must be at least as good) unless the pipeline sets one.
 */
export function decideGate(input: {
  pipeline: Pick<Pipeline, 'gates' | 'metrics'> & Partial<Pick<Pipeline, 'segmentGate' | 'budgets'>>;
  challenger: Metrics;
  champion: Metrics | null;
  championVersion: string | null;
  /** The primary metric per segment value (an evaluation of a pipeline with segments). */
  segments?: readonly SegmentMetric[] | null;
  /** Predict wall time per holdout row, milliseconds, of each model (the same holdout, one after the other). */
  latency?: { challenger: number; champion: number | null } | null;
}): GateDecision {
  const { pipeline, challenger, champion, championVersion } = input;
  const gates = [...pipeline.gates];
  const primary = pipeline.metrics.primary;
  if (!gates.some((g) => g.metric === primary && g.maxRegression !== undefined)) {
    gates.push({ metric: primary, maxRegression: 0 });
  }
  const checks: GateCheck[] = [];
  // The primary metric is what the model is judged by: a challenger without it never passes,
  // even as a first model with no gates.
  if ((challenger[primary] ?? null) === null) {
    checks.push({
      metric: primary,
      rule: 'required',
      threshold: null,
      challenger: null,
      champion: champion?.[primary] ?? null,
      passed: false,
      message: `primary metric ${primary} could not be computed`,
    });
  }
  for (const gate of gates) {
    const value = challenger[gate.metric] ?? null;
    const champ = champion ? (champion[gate.metric] ?? null) : null;
    if (gate.min !== undefined) checks.push(absolute(gate.metric, 'min', gate.min, value, champ));
    if (gate.max !== undefined) checks.push(absolute(gate.metric, 'max', gate.max, value, champ));
    if (gate.maxRegression !== undefined && champion)
      checks.push(regression(gate.metric, gate.maxRegression, value, champ, championVersion));
  }
  // Per segment and latency: only against a champion, measured on the same holdout.
  const segmentTable =
    pipeline.segmentGate && champion && input.segments ? segmentChecks(primary, pipeline.segmentGate, input.segments) : undefined;
  if (segmentTable) checks.push(...segmentTable.checks);
  const ratio = pipeline.budgets?.maxLatencyRatio;
  if (ratio !== undefined && champion && input.latency && input.latency.champion !== null)
    checks.push(latencyCheck(ratio, input.latency.challenger, input.latency.champion, championVersion));
  const failed = checks.filter((c) => !c.passed);
  const against = champion ? `champion ${championVersion}` : 'no champion yet';
  const reason = failed.length
    ? `rejected (${against}): ${failed.map((c) => c.message).join('; ')}`
    : `passed ${checks.length} check${checks.length === 1 ? '' : 's'} (${against})${checks.length ? ': ' + checks.map((c) => c.message).join('; ') : ''}`;
  return {
    passed: failed.length === 0,
    reason,
    checks,
    championVersion,
    ...(segmentTable && pipeline.segmentGate
      ? {
          segments: {
            metric: primary,
            maxRegression: pipeline.segmentGate.maxRegression,
            minRows: pipeline.segmentGate.minRows,
            rows: segmentTable.rows,
          },
        }
      : {}),
  };
}

/** A check per segment value with enough rows and a value on both sides; a table row for every value. */
function segmentChecks(
  metric: string,
  gate: NonNullable<Pipeline['segmentGate']>,
  segments: readonly SegmentMetric[],
): { checks: GateCheck[]; rows: SegmentGateRow[] } {
  const checks: GateCheck[] = [];
  const rows = segments.map((s): SegmentGateRow => {
    if (s.rows < gate.minRows)
      return { ...s, gated: false, passed: true, note: `not gated: ${s.rows} holdout rows, fewer than ${gate.minRows}` };
    if (s.challenger === null || s.champion === null)
      return { ...s, gated: false, passed: true, note: `not gated: ${metric} is undefined on these rows (a single class?)` };
    const worsening = higherIsBetter(metric) ? s.champion - s.challenger : s.challenger - s.champion;
    const passed = worsening <= gate.maxRegression + EPS;
    const delta = worsening > 0 ? `worse by ${fmt(worsening)}` : `better by ${fmt(-worsening)}`;
    const message = `${metric} in ${s.column}=${s.value} (${s.rows} rows) ${fmt(s.challenger)} vs ${fmt(s.champion)}: ${delta}, ${passed ? 'within' : 'exceeds'} allowed regression ${fmt(gate.maxRegression)}`;
    checks.push({
      metric,
      rule: 'segmentRegression',
      threshold: gate.maxRegression,
      challenger: s.challenger,
      champion: s.champion,
      passed,
      message,
      segment: { column: s.column, value: s.value, rows: s.rows },
    });
    return { ...s, gated: true, passed, note: `${delta}` };
  });
  return { checks, rows };
}

/** The challenger may predict at most `limit` times slower per row than the champion. */
function latencyCheck(limit: number, challenger: number, champion: number, championVersion: string | null): GateCheck {
  const ratio = champion > 0 ? challenger / champion : challenger > 0 ? Infinity : 1;
  const passed = ratio <= limit + EPS;
  return {
    metric: 'predict_ms_per_row',
    rule: 'latencyRatio',
    threshold: limit,
    challenger,
    champion,
    passed,
    message: `predict latency ${fmt(challenger)} ms/row vs ${fmt(champion)} (${championVersion}): ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'no time at all before'}, ${passed ? 'within' : 'exceeds'} allowed ${fmt(limit)}×`,
  };
}

function absolute(metric: string, rule: 'min' | 'max', threshold: number, value: number | null, champion: number | null): GateCheck {
  if (value === null)
    return { metric, rule, threshold, challenger: null, champion, passed: false, message: `${metric} could not be computed` };
  const passed = rule === 'min' ? value >= threshold - EPS : value <= threshold + EPS;
  const op = rule === 'min' ? (passed ? '>=' : '<') : passed ? '<=' : '>';
  return {
    metric,
    rule,
    threshold,
    challenger: value,
    champion,
    passed,
    message: `${metric} ${fmt(value)} ${op} ${rule} ${fmt(threshold)}`,
  };
}

function regression(
  metric: string,
  limit: number,
  value: number | null,
  champion: number | null,
  championVersion: string | null,
): GateCheck {
  const base = { metric, rule: 'maxRegression' as const, threshold: limit, challenger: value, champion };
  if (value === null) return { ...base, passed: false, message: `${metric} could not be computed` };
  if (champion === null) return { ...base, passed: true, message: `${metric}: champion has no value to compare with` };
  const worsening = higherIsBetter(metric) ? champion - value : value - champion;
  const passed = worsening <= limit + EPS;
  const delta = worsening > 0 ? `worse by ${fmt(worsening)}` : `better by ${fmt(-worsening)}`;
  const verdict = passed ? `within` : `exceeds`;
  return {
    ...base,
    passed,
    message: `${metric} ${fmt(value)} vs ${fmt(champion)} (${championVersion}): ${delta}, ${verdict} allowed regression ${fmt(limit)}`,
  };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4);
}
