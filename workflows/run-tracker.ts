// Where a retraining run stands: its current step, how long each step took, and how it ended.
// Pure (the logger and the clock are passed in), so it is tested directly.
import type { RunOutcome, RunStatus, RunStep } from '../shared/status';

/** Where step and end-of-run lines go (the workflow passes its `log`, which adds workflow and run ids). */
export interface RunLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** What a run knows when it starts: the model, who asked and why, its asOf and window, the approval state. */
export type RunStart = Pick<RunStatus, 'model' | 'requestedBy' | 'reason' | 'asOf' | 'window' | 'approval'>;

/** A new run's status: starting, running, nothing known yet but what it started with. */
export function newRunStatus(start: RunStart): RunStatus {
  const { model, requestedBy, reason, asOf, window, approval } = start;
  return {
    model,
    requestedBy,
    reason,
    asOf,
    window,
    step: 'starting',
    outcome: 'running',
    version: null,
    reusedVersion: false,
    championBefore: null,
    championAfter: null,
    snapshot: null,
    metrics: null,
    gate: null,
    approval,
    message: null,
    steps: [],
  };
}

/**
 * Moves a {@link RunStatus} from step to step. Each step leaves one structured line when it ends:
 * step, outcome, duration, model, version.
 */
export class RunTracker {
  private current: RunStatus['steps'][number] | null = null;

  /**
   * @param clock milliseconds since the epoch; in a workflow `Date.now` is the workflow's own,
   *   replay-safe time
   */
  constructor(
    readonly status: RunStatus,
    private readonly log: RunLog,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  /** Ends the current step as ok and starts `next` (`done` is shown as the step but not listed). */
  enter(next: RunStep): void {
    this.endStep('ok');
    this.status.step = next;
    this.current = { step: next, startedAt: new Date(this.clock()).toISOString(), durationMs: null };
    if (next !== 'done') this.status.steps.push(this.current);
  }

  /** Records the current step's duration and logs its line; a step ends once. */
  endStep(outcome: 'ok' | 'failed'): void {
    const current = this.current;
    // 'done' is not a step that ends: a run that throws after finishing has nothing left to log.
    if (!current || current.durationMs !== null || current.step === 'done') return;
    current.durationMs = this.clock() - Date.parse(current.startedAt);
    const meta = { model: this.status.model, version: this.status.version, step: current.step, outcome, durationMs: current.durationMs };
    if (outcome === 'ok') this.log.info(`step ${current.step}: ok`, meta);
    else this.log.warn(`step ${current.step}: failed`, meta);
  }

  /** Ends the run with an outcome and a message, and returns the final status as the run's summary. */
  finish(outcome: RunOutcome, message: string): RunStatus {
    this.enter('done');
    this.status.outcome = outcome;
    this.status.message = message;
    this.log.info(`finished: ${outcome}: ${message}`, { model: this.status.model, version: this.status.version, step: 'done', outcome });
    return this.status;
  }

  /**
   * Marks the current step failed and, unless the run already ended with an outcome of its own
   * (a rollback, say), records this one.
   */
  fail(outcome: 'failed' | 'cancelled', message: string): void {
    this.endStep('failed');
    if (this.status.outcome !== 'running') return;
    this.status.outcome = outcome;
    this.status.message = message;
  }
}
