import type { AlertArea, MonitoringRoutes } from './alert-message';
import { sortEvents, type AuditEvent } from './audit';
import type { VersionServing } from './prediction-log';

/**
 * The production-readiness checklist, answered from evidence (`retrain readiness`): seven
 * questions, each with yes, no or unknown, what the answer rests on, and for a "no" what to do.
 * Pure code: services/readiness.ts gathers the evidence.
 */

/** The checklist's items, in the order they are shown. */
export const ReadinessItem = {
  DRIFT_ALERTING: 'drift-alerting',
  TESTED_PIPELINE: 'tested-pipeline',
  PREDICTION_COST: 'prediction-cost',
  PREDICTION_LOGS: 'prediction-logs',
  ROLLBACK: 'rollback',
  OWNERS: 'owners',
  EXPLAIN: 'explain',
} as const;
export type ReadinessItem = (typeof ReadinessItem)[keyof typeof ReadinessItem];

/** The question each item answers, as a person reads it. */
export const READINESS_QUESTIONS: Readonly<Record<ReadinessItem, string>> = {
  'drift-alerting': 'alerting on prediction drift',
  'tested-pipeline': 'a tested retraining pipeline',
  'prediction-cost': 'per-prediction cost known and within budget',
  'prediction-logs': 'prediction-level logs with the model version',
  rollback: 'rollback to a previous champion',
  owners: 'an owner per area',
  explain: 'why did the system make this decision?',
};

/** "unknown": the evidence could not be read (the reason is in `evidence`); it does not count as ready. */
export type ReadinessVerdict = 'yes' | 'no' | 'unknown';

/** One answered question. */
export interface ReadinessAnswer {
  id: ReadinessItem;
  question: string;
  answer: ReadinessVerdict;
  /** What the answer rests on: names, counts, times. */
  evidence: string;
  /** For a "no" or "unknown": the command to run or the setting to add. */
  todo?: string;
}

/** A model's answers; `ready` only when every answer is "yes". */
export interface ModelReadiness {
  model: string;
  ready: boolean;
  items: ReadinessAnswer[];
}

/** The model's drift schedule as the Temporal server describes it, or why it could not be asked. */
export type ScheduleEvidence =
  | { state: 'found'; scheduleId: string; paused: boolean; note: string | null; cron: string | null }
  | { state: 'missing'; scheduleId: string }
  | { state: 'unknown'; scheduleId: string; reason: string };

/** How a finished retraining run ended, from its audit events. */
export interface FinishedRun {
  workflowId: string | null;
  runId: string | null;
  outcome: 'promoted' | 'rejected-by-gate' | 'rejected-by-approver' | 'unchanged' | 'failed';
  /** When the deciding event was written, ISO-8601. */
  at: string;
  version: string | null;
  summary: string;
}

/** The latest finished retraining run, and the start of a later one that has no outcome yet. */
export interface RetrainingRuns {
  last: FinishedRun | null;
  /** A later run without an outcome: still running, or ended unchanged (such a run writes no outcome). */
  unfinished: { workflowId: string | null; at: string } | null;
}

/** The prediction log of the window (`from` ≤ timestamp < `to`). */
export interface PredictionEvidence {
  from: string;
  to: string;
  /** Valid lines in the window. */
  lines: number;
  /** True when the window held more lines than were read (a uniform sample): figures are the sample's. */
  sampled: boolean;
  /** Volume and cost per version (of the lines read). */
  versions: VersionServing[];
  invalidLines: number;
  firstInvalid?: string;
}

/** The previous champion and whether its artefacts can be read. */
export type RollbackEvidence =
  | { previous: null }
  | { previous: string; recorded: false }
  | { previous: string; recorded: true; artefacts: { name: string; key: string; exists: boolean }[] };

/** `retrain explain` of the newest prediction in the window. */
export type ExplainEvidence =
  | { state: 'no-prediction' }
  | { state: 'failed'; predictionId: string; reason: string }
  | {
      state: 'explained';
      predictionId: string;
      at: string;
      version: string;
      /** The version that made it has a record in the registry (lineage, gate). */
      inRegistry: boolean;
      isChampion: boolean;
      /** The latest gate decision on that version; null when none was recorded. */
      gatePassed: boolean | null;
      action: string | null;
    };

/** Everything the answers rest on, for one pipeline. */
export interface ReadinessEvidence {
  model: string;
  owners: Record<AlertArea, string>;
  /** The pipeline's drift settings (its window), or null without them. */
  drift: { window: string } | null;
  /** The pipeline's schedule.cron. */
  cron: string | null;
  schedule: ScheduleEvidence;
  alerts: MonitoringRoutes;
  /** The latest drift-check event of the audit log. */
  lastDriftCheck: { at: string } | null;
  runs: RetrainingRuns;
  predictions: PredictionEvidence;
  /** budgets.maxCostPer1000 of the pipeline. */
  maxCostPer1000: number | null;
  champion: string | null;
  rollback: RollbackEvidence;
  explain: ExplainEvidence;
}

/** The audit events a retraining run writes (a manual rollback and drift checks are not runs). */
const RUN_EVENTS = new Set<AuditEvent['type']>([
  'snapshot',
  'validation',
  'training',
  'registration',
  'evaluation',
  'gate',
  'approval',
  'promotion',
  'verification',
  'run-failed',
  'run-unchanged',
]);

/** What a run's outcome is read from: an audit event without its details (the console's audit index has these). */
export type RunEvent = Omit<AuditEvent, 'details'>;

/**
 * The latest finished retraining run of an audit log. A run is its events of one workflow run;
 * it ended with `run-failed` (failed, cancelled or rolled back), a verified promotion, or a
 * rejection by the gate or an approver, or unchanged (its version was trained before). Runs
 * recorded before unchanged runs were audited count as unfinished, like one still running.
 */
export function retrainingRuns(events: readonly RunEvent[]): RetrainingRuns {
  const runs = new Map<string, RunEvent[]>();
  for (const e of sortEvents([...events])) {
    if (!RUN_EVENTS.has(e.type)) continue;
    const key = `${e.workflowId}/${e.runId}`;
    runs.set(key, [...(runs.get(key) ?? []), e]);
  }
  // Newest run first, by its latest event.
  const newestFirst = [...runs.values()].sort((a, b) => b.at(-1)!.at.localeCompare(a.at(-1)!.at));
  let unfinished: RetrainingRuns['unfinished'] = null;
  for (const run of newestFirst) {
    const finished = outcomeOf(run);
    if (finished) return { last: finished, unfinished };
    unfinished ??= { workflowId: run[0].workflowId, at: run[0].at };
  }
  return { last: null, unfinished };
}

function outcomeOf(run: RunEvent[]): FinishedRun | null {
  const find = (type: AuditEvent['type'], outcome?: AuditEvent['outcome']) =>
    [...run].reverse().find((e) => e.type === type && (outcome === undefined || e.outcome === outcome));
  const decided: [FinishedRun['outcome'], RunEvent | undefined][] = [
    ['failed', find('run-failed')],
    ['unchanged', find('run-unchanged')],
    ['promoted', find('verification', 'ok')],
    ['rejected-by-gate', find('gate', 'rejected')],
    ['rejected-by-approver', find('approval', 'rejected')],
  ];
  const [outcome, event] = decided.find(([, e]) => e !== undefined) ?? [];
  if (!outcome || !event) return null;
  return { workflowId: event.workflowId, runId: event.runId, outcome, at: event.at, version: event.version, summary: event.summary };
}

/** Answers the seven questions from the evidence; see {@link ReadinessEvidence}. */
export function assessReadiness(e: ReadinessEvidence): ModelReadiness {
  const items = [driftAlerting(e), testedPipeline(e), predictionCost(e), predictionLogs(e), rollback(e), owners(e), explain(e)];
  return { model: e.model, ready: items.every((i) => i.answer === 'yes'), items };
}

/** Whether every model is ready (false for none: nothing was shown to be ready). */
export function allReady(models: readonly ModelReadiness[]): boolean {
  return models.length > 0 && models.every((m) => m.ready);
}

function answer(id: ReadinessItem, verdict: ReadinessVerdict, evidence: string, todo?: string): ReadinessAnswer {
  return { id, question: READINESS_QUESTIONS[id], answer: verdict, evidence, ...(verdict !== 'yes' && todo ? { todo } : {}) };
}

const fileOf = (model: string) => `pipelines/${model}.ts`;

function driftAlerting(e: ReadinessEvidence): ReadinessAnswer {
  const { model, schedule: s } = e;
  const problems: string[] = [];
  const todos: string[] = [];
  if (!e.drift) {
    problems.push('no drift settings');
    todos.push(`add drift: { window: '24h' } and schedule: { cron: '0 * * * *' } to ${fileOf(model)}, then npx retrain schedules apply`);
  } else if (!e.cron) {
    problems.push('no schedule.cron');
    todos.push(`add schedule: { cron: '0 * * * *' } to ${fileOf(model)}, then npx retrain schedules apply`);
  }
  if (s.state === 'missing') {
    problems.push(`schedule ${s.scheduleId} is not applied in Temporal`);
    if (todos.length === 0) todos.push('npx retrain schedules apply');
  }
  if (s.state === 'found' && s.paused) {
    problems.push(`schedule ${s.scheduleId} is paused${s.note ? ` (${s.note})` : ''}`);
    todos.push(`npx retrain schedules unpause ${model}`);
  }
  if (e.alerts.routes.length === 0) {
    problems.push('no alert route for monitoring');
    todos.push(
      `add alerts: { monitoring: [{ url: 'https://hooks.example.com/…', format: 'slack' }] } to ${fileOf(model)} (or set RETRAIN_ALERT_WEBHOOK for the workers)`,
    );
  }
  const lastCheck = e.lastDriftCheck ? `last check ${minute(e.lastDriftCheck.at)}` : 'no check has run yet';
  const cron = s.state === 'found' ? (s.cron ?? e.cron) : e.cron;
  // What holds besides the problems: a running schedule (with its last check), the routes.
  const facts = [
    s.state === 'found' && !s.paused ? `schedule ${s.scheduleId} runs${cron ? ` "${cron}"` : ''} (${lastCheck})` : null,
    s.state === 'unknown' ? `schedule ${s.scheduleId} could not be read (${s.reason})` : null,
    s.state !== 'found' || s.paused ? (e.lastDriftCheck ? lastCheck : null) : null,
    e.alerts.routes.length ? `alerts to monitoring via ${describeRoutes(e.alerts)}` : null,
  ].filter((f): f is string => f !== null);
  if (problems.length > 0) return answer(ReadinessItem.DRIFT_ALERTING, 'no', [...problems, ...facts].join('; '), todos.join('; '));
  if (s.state === 'unknown')
    return answer(
      ReadinessItem.DRIFT_ALERTING,
      'unknown',
      facts.join('; '),
      'make Temporal reachable (npx retrain check says what is wrong), then run this again',
    );
  return answer(ReadinessItem.DRIFT_ALERTING, 'yes', facts.join(', '));
}

/** Each route's host and format (never the whole URL: a chat webhook's path is its secret). */
function describeRoutes(m: MonitoringRoutes): string {
  const hosts = m.routes.map((r) => `${hostOf(r.url)} (${r.format})`).join(', ');
  return m.source === 'alerts.monitoring' ? hosts : `${hosts} from ${m.source}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an unreadable URL';
  }
}

const RUN_ENDINGS: Record<FinishedRun['outcome'], string> = {
  promoted: 'promoted',
  'rejected-by-gate': 'ended rejected by the gate (the pipeline worked; the champion stayed)',
  'rejected-by-approver': 'ended rejected by an approver (the pipeline worked; the champion stayed)',
  unchanged: 'ended unchanged (its version was trained before; the pipeline worked)',
  failed: 'FAILED',
};

function testedPipeline(e: ReadinessEvidence): ReadinessAnswer {
  const { last, unfinished } = e.runs;
  const later = unfinished ? `; a later run (${unfinished.workflowId ?? 'unknown'}, ${minute(unfinished.at)}) has no outcome yet` : '';
  if (!last)
    return answer(
      ReadinessItem.TESTED_PIPELINE,
      'no',
      `no retraining run of ${e.model} has finished${later}`,
      `npx retrain run ${e.model} --wait`,
    );
  const run = `last run ${minute(last.at)}${last.workflowId ? ` (${last.workflowId})` : ''}`;
  if (last.outcome === 'failed')
    return answer(
      ReadinessItem.TESTED_PIPELINE,
      'no',
      `${run} ${RUN_ENDINGS.failed}: ${last.summary}${later}`,
      `see why with npx retrain audit ${e.model}, fix it, then npx retrain run ${e.model} --wait`,
    );
  const what = last.outcome === 'promoted' ? `promoted ${last.version ?? 'a version'}` : `${RUN_ENDINGS[last.outcome]}: ${last.summary}`;
  return answer(ReadinessItem.TESTED_PIPELINE, 'yes', `${run} ${what}${later}`);
}

const LOG_TODO =
  'log each prediction with createPredictionLogger (retrain/serving) or POST /v1/predictions, with its version, cost and action';

function windowText(p: PredictionEvidence): string {
  return `since ${minute(p.from)}`;
}

function predictionCost(e: ReadinessEvidence): ReadinessAnswer {
  const p = e.predictions;
  const counted = sumOf(p.versions, (v) => v.cost.counted);
  const total = sumOf(p.versions, (v) => v.cost.total);
  const read = sumOf(p.versions, (v) => v.predictions);
  const costTodo = 'log a cost with each prediction (cost in logPrediction, or "cost" in POST /v1/predictions)';
  if (p.lines === 0) return answer(ReadinessItem.PREDICTION_COST, 'no', `no predictions logged ${windowText(p)}, so no cost`, LOG_TODO);
  if (counted === 0)
    return answer(ReadinessItem.PREDICTION_COST, 'no', `none of the ${count(p.lines)} predictions ${windowText(p)} has a cost`, costTodo);
  const per1000 = (total / counted) * 1000;
  const basis = `${count(counted)} of ${count(read)} ${p.sampled ? 'sampled ' : ''}lines have a cost`;
  const budget = e.maxCostPer1000;
  if (budget !== null && per1000 > budget)
    return answer(
      ReadinessItem.PREDICTION_COST,
      'no',
      `${figure(per1000)} per 1,000 predictions ${windowText(p)}, over the budget of ${figure(budget)} (budgets.maxCostPer1000; ${basis})`,
      `bring serving cost down (a cheaper model or serving path), or raise budgets.maxCostPer1000 in ${fileOf(e.model)} if the budget is wrong`,
    );
  const within = budget === null ? 'no budget set (budgets.maxCostPer1000)' : `within the budget of ${figure(budget)}`;
  return answer(ReadinessItem.PREDICTION_COST, 'yes', `${figure(per1000)} per 1,000 predictions ${windowText(p)}, ${within} (${basis})`);
}

function predictionLogs(e: ReadinessEvidence): ReadinessAnswer {
  const p = e.predictions;
  const invalid = p.invalidLines ? `; ${count(p.invalidLines)} invalid lines, the first: ${p.firstInvalid}` : '';
  if (p.lines === 0) return answer(ReadinessItem.PREDICTION_LOGS, 'no', `no prediction lines ${windowText(p)}${invalid}`, LOG_TODO);
  const byVersion = [...p.versions]
    .sort((a, b) => b.predictions - a.predictions)
    .map((v) => `${v.version}${v.version === e.champion ? ' (champion)' : ''} ${count(v.predictions)}`)
    .join(', ');
  const stale = p.versions.filter((v) => v.version !== e.champion).map((v) => v.version);
  const warning = stale.length
    ? `; warning: ${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} not the champion (${e.champion ?? 'none'}) and still serving`
    : '';
  const sampled = p.sampled ? ' (versions counted on a sample)' : '';
  return answer(
    ReadinessItem.PREDICTION_LOGS,
    'yes',
    `${count(p.lines)} lines ${windowText(p)}: ${byVersion}${sampled}${warning}${invalid}`,
  );
}

function rollback(e: ReadinessEvidence): ReadinessAnswer {
  const r = e.rollback;
  if (r.previous === null)
    return e.champion
      ? answer(
          ReadinessItem.ROLLBACK,
          'no',
          `no previous champion (champion ${e.champion}, the first one)`,
          `promote another version (npx retrain run ${e.model} --wait with new data or params): ${e.champion} then becomes the rollback target`,
        )
      : answer(
          ReadinessItem.ROLLBACK,
          'no',
          'no champion, so no previous one',
          `npx retrain run ${e.model} --wait, twice with different data or params: the first champion becomes the rollback target`,
        );
  if (!r.recorded)
    return answer(
      ReadinessItem.ROLLBACK,
      'no',
      `previous champion ${r.previous} has no version record in the registry`,
      `restore its record (registry/${e.model}/versions/${r.previous}.json) or promote a new version so a recorded one becomes the previous champion`,
    );
  const missing = r.artefacts.filter((a) => !a.exists);
  if (missing.length > 0 || r.artefacts.length === 0)
    return answer(
      ReadinessItem.ROLLBACK,
      'no',
      r.artefacts.length === 0
        ? `previous champion ${r.previous} lists no artefacts`
        : `previous champion ${r.previous}: ${missing.map((a) => `${a.name} (${a.key})`).join(', ')} missing from the store`,
      'restore the missing artefacts in the store, or promote a new version so a readable one becomes the previous champion',
    );
  const names = r.artefacts.map((a) => a.name).join(', ');
  return answer(
    ReadinessItem.ROLLBACK,
    'yes',
    `previous champion ${r.previous}, its artefacts readable (${names}): npx retrain rollback ${e.model} --reason "…"`,
  );
}

function owners(e: ReadinessEvidence): ReadinessAnswer {
  const areas = Object.entries(e.owners) as [AlertArea, string][];
  const unnamed = areas.filter(([, who]) => who.trim() === '').map(([area]) => area);
  const named = areas.map(([area, who]) => `${area} ${who || '—'}`).join(', ');
  if (unnamed.length > 0)
    return answer(ReadinessItem.OWNERS, 'no', named, `name an owner for ${unnamed.join(', ')} in owners of ${fileOf(e.model)}`);
  return answer(ReadinessItem.OWNERS, 'yes', named);
}

function explain(e: ReadinessEvidence): ReadinessAnswer {
  const x = e.explain;
  if (x.state === 'no-prediction')
    return answer(ReadinessItem.EXPLAIN, 'no', `no prediction ${windowText(e.predictions)} to explain`, LOG_TODO);
  const command = `npx retrain explain ${x.predictionId} --model ${e.model}`;
  if (x.state === 'failed')
    return answer(ReadinessItem.EXPLAIN, 'no', `${command} failed: ${x.reason}`, `fix what the error names, then ${command}`);
  if (!x.inRegistry)
    return answer(
      ReadinessItem.EXPLAIN,
      'no',
      `${x.predictionId} was made by ${x.version}, which is not in the registry of ${e.model}: no lineage, gate or approval to show`,
      'serve versions Retrain trained (the champion: readPointer in retrain/serving), and log that version with each prediction',
    );
  const gate = x.gatePassed === null ? 'no gate decision recorded' : x.gatePassed ? 'gate passed' : 'gate FAILED';
  const facts = `${x.predictionId} (${minute(x.at)}) by ${x.version}${x.isChampion ? ' (champion)' : ''}: lineage, ${gate}`;
  if (x.action === null)
    return answer(
      ReadinessItem.EXPLAIN,
      'no',
      `${facts}, but no action logged: what the product did is unknown`,
      'pass action (what the product did, e.g. "offered discount 20%") to logPrediction or POST /v1/predictions',
    );
  return answer(ReadinessItem.EXPLAIN, 'yes', `${facts}, action "${x.action}" (${command})`);
}

function sumOf<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}

/** An ISO time to the minute: 2026-11-30T06:00Z. */
function minute(iso: string): string {
  return `${iso.slice(0, 16)}Z`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Four significant digits, without trailing zeros: 0.2, 12.35, 1235. */
function figure(x: number): string {
  return String(Number(x.toPrecision(4)));
}
