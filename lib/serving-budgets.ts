/**
 * Serving budgets (`budgets` of a pipeline): what each model version that served in a drift
 * check's window cost per 1,000 predictions and how slow its p95 was, against the limits. Over
 * budget is not drift: it alerts the inference owner, and never starts a retrain. Pure code.
 */
import type { VersionServing } from './prediction-log';

/** The serving figures a budget can limit. */
export const BudgetMeasure = {
  /** Mean cost of the predictions that logged one, × 1,000, in the log's currency unit. */
  COST_PER_1000: 'costPer1000',
  /** p95 latency by nearest rank, milliseconds. */
  LATENCY_P95_MS: 'latencyP95Ms',
} as const;
export type BudgetMeasure = (typeof BudgetMeasure)[keyof typeof BudgetMeasure];

/** The limits a pipeline sets (the drift-check half of `budgets`; `maxLatencyRatio` is judged at evaluation). */
export interface ServingBudgetLimits {
  maxCostPer1000?: number;
  maxLatencyP95Ms?: number;
}

/** One version's figure against one limit. */
export interface BudgetCheck {
  version: string;
  what: BudgetMeasure;
  /** The version's figure in the window; null when it has none (no prediction logged a cost). */
  figure: number | null;
  limit: number;
  /** False when the figure is shown but not judged: too few predictions, or no figure. */
  judged: boolean;
  /** True when a judged figure is above the limit (equal is within). */
  over: boolean;
  /** The version's predictions in the window. */
  predictions: number;
  /** Why a figure was not judged, or what it rests on. */
  note?: string;
}

/** The report's `budgets` section. */
export interface BudgetsReport {
  limits: ServingBudgetLimits;
  /** Fewer predictions of a version than this: its figures are shown, not judged (drift.minPredictions). */
  minPredictions: number;
  checks: BudgetCheck[];
  /** Some version is over a limit. */
  over: boolean;
}

/** A limit a version exceeded, as the workflow and the alert carry it. */
export interface OverBudget {
  version: string;
  what: BudgetMeasure;
  figure: number;
  limit: number;
}

// A figure equal to its limit must not turn "over" by a rounding in cost × 1,000.
const RELATIVE_EPS = 1e-12;

/**
 * Each version's figures against each limit set, versions in the order of `serving`, cost before
 * latency. A version with fewer than `minPredictions` predictions is listed but not judged (a p95
 * of a handful of predictions is their maximum). Null when no limit is set.
 */
export function checkServingBudgets(
  serving: readonly VersionServing[] | null,
  limits: ServingBudgetLimits,
  minPredictions: number,
): BudgetsReport | null {
  const set = limitsSet(limits);
  if (set.length === 0) return null;
  const checks = (serving ?? []).flatMap((s) => set.map(({ what, limit }) => checkOne(s, what, limit, minPredictions)));
  return { limits: { ...limits }, minPredictions, checks, over: checks.some((c) => c.over) };
}

function limitsSet(limits: ServingBudgetLimits): { what: BudgetMeasure; limit: number }[] {
  const out: { what: BudgetMeasure; limit: number }[] = [];
  if (limits.maxCostPer1000 !== undefined) out.push({ what: BudgetMeasure.COST_PER_1000, limit: limits.maxCostPer1000 });
  if (limits.maxLatencyP95Ms !== undefined) out.push({ what: BudgetMeasure.LATENCY_P95_MS, limit: limits.maxLatencyP95Ms });
  return out;
}

function checkOne(s: VersionServing, what: BudgetMeasure, limit: number, minPredictions: number): BudgetCheck {
  const figure = what === BudgetMeasure.COST_PER_1000 ? costPer1000(s) : s.latencyMs.p95;
  const check = (judged: boolean, note?: string): BudgetCheck => ({
    version: s.version,
    what,
    figure,
    limit,
    judged,
    over: judged && figure !== null && figure > limit * (1 + RELATIVE_EPS),
    predictions: s.predictions,
    ...(note ? { note } : {}),
  });
  if (figure === null) return check(false, 'no prediction logged a cost');
  if (s.predictions < minPredictions) return check(false, `${s.predictions} predictions, fewer than the ${minPredictions} a verdict needs`);
  const partly = what === BudgetMeasure.COST_PER_1000 && s.cost.counted < s.predictions;
  return check(true, partly ? `${s.cost.counted} of ${s.predictions} predictions logged a cost` : undefined);
}

function costPer1000(s: VersionServing): number | null {
  return s.cost.perPrediction === null ? null : s.cost.perPrediction * 1000;
}

/** The limits exceeded, in the report's order. */
export function overBudgetOf(report: BudgetsReport | null | undefined): OverBudget[] {
  return (report?.checks ?? []).filter((c) => c.over && c.figure !== null).map((c) => overBudgetItem(c));
}

function overBudgetItem(c: BudgetCheck): OverBudget {
  return { version: c.version, what: c.what, figure: c.figure!, limit: c.limit };
}

/** What a measure is called in sentences. */
export const BUDGET_MEASURE_NAMES: Record<BudgetMeasure, string> = {
  costPer1000: 'cost per 1,000 predictions',
  latencyP95Ms: 'p95 latency',
};

/** One exceeded limit in words: "v1 p95 latency 14 ms (limit 10 ms)". */
export function describeOverBudget(o: OverBudget): string {
  const unit = o.what === BudgetMeasure.LATENCY_P95_MS ? ' ms' : '';
  return `${o.version} ${BUDGET_MEASURE_NAMES[o.what]} ${figureText(o.figure)}${unit} (limit ${figureText(o.limit)}${unit})`;
}

/** At most 4 significant digits, no exponent for small costs: 0.0002, 0.2, 14, 1234. */
function figureText(x: number): string {
  return String(Number(x.toPrecision(4)));
}
