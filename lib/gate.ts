import { higherIsBetter } from './metrics/names';
import type { Pipeline } from './pipeline';

/** A model's metric values by name; null where a metric could not be computed. */
export type Metrics = Record<string, number | null>;

/** One rule of the gate applied to one metric: the values compared, the verdict and a readable message. */
export interface GateCheck {
  metric: string;
  /** `required`: the primary metric must have a value at all. */
  rule: 'min' | 'max' | 'maxRegression' | 'required';
  threshold: number | null;
  challenger: number | null;
  champion: number | null;
  passed: boolean;
  message: string;
}

/** The gate's written verdict: what was checked, the outcome of each check, and why. */
export interface GateDecision {
  passed: boolean;
  reason: string;
  checks: GateCheck[];
  championVersion: string | null;
}

// Floating-point noise must not fail a tie.
const EPS = 1e-12;

/**
 * Decides whether a challenger may replace the champion. Absolute limits always apply;
 * regression limits apply when there is a champion. The primary metric gets an implicit
 * `maxRegression: 0` (the challenger must be at least as good) unless the pipeline sets one.
 */
export function decideGate(input: {
  pipeline: Pick<Pipeline, 'gates' | 'metrics'>;
  challenger: Metrics;
  champion: Metrics | null;
  championVersion: string | null;
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
  const failed = checks.filter((c) => !c.passed);
  const against = champion ? `champion ${championVersion}` : 'no champion yet';
  const reason = failed.length
    ? `rejected (${against}): ${failed.map((c) => c.message).join('; ')}`
    : `passed ${checks.length} check${checks.length === 1 ? '' : 's'} (${against})${checks.length ? ': ' + checks.map((c) => c.message).join('; ') : ''}`;
  return { passed: failed.length === 0, reason, checks, championVersion };
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
