import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import type { RunStatus } from '../shared/status';

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

// Steps that run before the version id is known.
const BEFORE_VERSION = new Set(['pull', 'validate', 'split', 'plan']);

/**
 * Polls a run's status query and prints each new step as it starts; `onStep` lets a caller act
 * (the demo approves when the run waits). Returns the final status, also for failed runs.
 */
export async function followRun(
  handle: WorkflowHandle,
  opts: { print: (line: string) => void; onStep?: (status: RunStatus) => Promise<void>; intervalMs?: number },
): Promise<{ status: RunStatus; failed: Error | null }> {
  let printed = 0;
  let done = false;
  const result = handle.result().then(
    () => null,
    (err: Error) => err,
  );
  void result.then(() => (done = true));
  while (!done) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status && status.steps.length > printed) {
      // Print every step entered since the last poll, so quick steps are not skipped.
      for (const { step } of status.steps.slice(printed))
        opts.print(`  → ${STEP_TEXT[step] ?? step}${status.version && !BEFORE_VERSION.has(step) ? ` [${status.version}]` : ''}`);
      printed = status.steps.length;
      await opts.onStep?.(status);
    }
    await Promise.race([result, new Promise((r) => setTimeout(r, opts.intervalMs ?? 300))]);
  }
  const failed = await result;
  const status = await handle.query(statusQuery);
  for (const { step } of status.steps.slice(printed)) opts.print(`  → ${STEP_TEXT[step] ?? step}`);
  return { status, failed: failed ? rootCause(failed) : null };
}

/** The innermost cause of a workflow failure: the message a person needs. */
export function rootCause(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return err instanceof WorkflowFailedError ? e : err;
}
