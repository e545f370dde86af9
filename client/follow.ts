import { shellQuote } from '../lib/shell-quote';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import type { RunStatus, RunStep } from '../shared/status';
import { NoWorkerPollingError, queuesWithoutPollers, type QueueNeed } from './pollers';

const STEP_TEXT: Record<string, string> = {
  pull: 'pulling and snapshotting the data',
  validate: 'validating the dataset',
  split: 'splitting train / holdout',
  plan: 'deriving the version from data, params and code',
  train: 'training (Python subprocess)',
  register: 'registering the version',
  evaluate: 'evaluating challenger and champion on the holdout',
  gate: 'gating',
  approval: 'waiting for approval',
  promote: 'promoting',
  verify: 'verifying the promoted model',
  rollback: 'rolling back',
};

/** What a run is waiting for, in "still waiting for …". */
const WAIT_TEXT: Record<RunStep, string> = {
  starting: 'the run to start',
  pull: 'the data pull',
  validate: 'validation',
  split: 'the train / holdout split',
  plan: 'the version plan',
  train: 'training',
  register: 'registration',
  evaluate: 'evaluation',
  gate: 'the gate',
  approval: 'approval',
  promote: 'promotion',
  verify: 'verification',
  rollback: 'the rollback',
  done: 'the run to end',
};

// Steps that run before the version id is known.
const BEFORE_VERSION = new Set(['pull', 'validate', 'split', 'plan']);

/** How {@link followRun} prints, waits and checks. */
export interface FollowOptions {
  print: (line: string) => void;
  /** Called after each poll that saw a new step; the demo approves when the run waits. */
  onStep?: (status: RunStatus) => Promise<void>;
  /** How often the run's status is polled. @default 300 ms */
  intervalMs?: number;
  /** How often a quiet wait says what it waits for and for how long (less often after four times). @default 15 s */
  progressEveryMs?: number;
  /**
   * Task queues a worker must poll while the run goes on; a run whose queue has no worker stops
   * the follow with {@link NoWorkerPollingError} (the run itself stays and goes on when a
   * worker polls again). null: no check.
   * @default the run's own workflow task queue
   */
  workers?: QueueNeed[] | null;
  /** How often the queues are checked (the first check is at the start). @default 10 s */
  workerCheckEveryMs?: number;
  /** A poller not seen for this long counts as gone. @default STALE_POLLER_MS (2 min) */
  staleAfterMs?: number;
  /** When the run waits for approval, print who may decide and the commands to type. @default true */
  approvalHint?: boolean;
}

/**
 * Polls a run's status query and prints each new step as it starts; a quiet wait prints
 * "still waiting for <step> (1m 05s)" now and then, and the run's task queues are re-checked
 * for workers, so a missing or dead worker is reported instead of waited for. Returns the final
 * status, also for failed runs.
 */
export async function followRun(handle: WorkflowHandle, opts: FollowOptions): Promise<{ status: RunStatus; failed: Error | null }> {
  const intervalMs = opts.intervalMs ?? 300;
  const progressEveryMs = opts.progressEveryMs ?? 15_000;
  const checkEveryMs = opts.workerCheckEveryMs ?? 10_000;
  const followStart = Date.now();
  let printed = 0;
  let done = false;
  let last: RunStatus | null = null;
  let lastOutput = Date.now();
  let lastCheck = -Infinity;
  // "still waiting" lines printed for the current step, which space out on a long wait.
  let waits = 0;
  const say = (line: string) => {
    opts.print(line);
    lastOutput = Date.now();
  };
  const result = handle.result().then(
    (summary: unknown) => ({ summary: summary as RunStatus, error: null }),
    (err: Error) => ({ summary: null, error: err }),
  );
  void result.then(() => (done = true));
  const queues = opts.workers === undefined ? [{ name: (await handle.describe()).taskQueue, tasks: 'workflow' as const }] : opts.workers;
  const { workflowService, options } = handle.client;

  while (!done) {
    if (queues && Date.now() - lastCheck >= checkEveryMs) {
      lastCheck = Date.now();
      const missing = await queuesWithoutPollers({ workflowService }, options.namespace, queues, { staleAfterMs: opts.staleAfterMs });
      if (missing.length > 0 && !done) {
        const where = last ? ` at step ${last.step}` : '';
        throw new NoWorkerPollingError(
          missing,
          `${handle.workflowId} waits${where} and goes on when a worker polls again (see \`npx retrain check\`)`,
        );
      }
    }
    // A query needs a worker; bounded, so a worker that dies between checks does not stall the follow.
    const status = await handle.client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery)).catch(() => null);
    if (status) last = status;
    if (status && status.steps.length > printed) {
      // Print every step entered since the last poll, so quick steps are not skipped.
      for (const { step } of status.steps.slice(printed))
        say(`  → ${STEP_TEXT[step] ?? step}${status.version && !BEFORE_VERSION.has(step) ? ` [${status.version}]` : ''}`);
      printed = status.steps.length;
      waits = 0;
      if (opts.approvalHint !== false && status.step === 'approval' && status.approval.decision === 'pending')
        for (const line of approvalHint(status)) say(line);
      await opts.onStep?.(status);
    } else if (!done && Date.now() - lastOutput >= quietFor(progressEveryMs, waits)) {
      say(`    still waiting for ${await waitingFor(handle, last, followStart)}`);
      waits++;
    }
    await Promise.race([result, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  const { summary, error } = await result;
  // A completed run's result is its final status; a failed one is asked (its worker replays it).
  const status = summary ?? (await handle.query(statusQuery));
  for (const { step } of status.steps.slice(printed)) opts.print(`  → ${STEP_TEXT[step] ?? step}`);
  return { status, failed: error ? rootCause(error) : null };
}

/**
 * How long a wait stays quiet before the next "still waiting" line: `every` for the first four,
 * then twice as long each time up to 5 minutes, so a day-long wait for approval is not a
 * thousand lines.
 */
function quietFor(every: number, waits: number): number {
  return waits < 4 ? every : Math.min(every * 2 ** (waits - 3), Math.max(every, 300_000));
}

/** Who may decide and the exact commands, for a run waiting for approval. */
function approvalHint(status: RunStatus): string[] {
  const { approvers } = status.approval;
  const by = approvers.length === 1 ? shellQuote(approvers[0]) : '<one of the approvers>';
  return [
    `    needs a decision from ${approvers.length === 1 ? 'its approver' : 'one of its approvers'}: ${approvers.join(', ')}`,
    `    approve: npx retrain approve ${shellQuote(status.model)} --by ${by} --reason "…"`,
    `    reject:  npx retrain reject ${shellQuote(status.model)} --by ${by} --reason "…"`,
  ];
}

/** "training (1m 05s; attempt 2, last failure: …)": the current step, how long it has taken, and a retried activity. */
async function waitingFor(handle: WorkflowHandle, status: RunStatus | null, followStart: number): Promise<string> {
  const current = status?.steps.at(-1);
  const since = current ? Date.parse(current.startedAt) : followStart;
  const parts = [formatElapsed(Date.now() - since)];
  const pending = await handle
    .describe()
    .then((d) => d.raw.pendingActivities ?? [])
    .catch(() => []);
  const retried = pending.find((a) => (a.attempt ?? 1) > 1 || a.lastFailure);
  if (retried)
    parts.push(`attempt ${retried.attempt ?? 1}${retried.lastFailure?.message ? `, last failure: ${retried.lastFailure.message}` : ''}`);
  return `${WAIT_TEXT[status?.step ?? 'starting']} (${parts.join('; ')})`;
}

/** "45s", "1m 05s", "2h 03m". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The innermost cause of a workflow failure: the message a person needs. */
export function rootCause(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return err instanceof WorkflowFailedError ? e : err;
}
