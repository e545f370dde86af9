import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { HISTORY_DIR } from './helpers/harness';

/*
 * Histories recorded from real runs: 01-06 (worker crash, cancellations, promotion, reuse) by
 * `RETRAIN_RECORD_HISTORIES=1 npx vitest run test/durability.test.ts`; 07-22 (approvals by signal
 * and update, refused and early decisions, approval timeouts, gate rejection, rollback after failed
 * verification, drift checks that alert or start a retrain, manual rollbacks) from the approval,
 * rollback, gate and drift-check tests, run on the workflow code as it was before the approval
 * state machine and step tracker moved into their own modules. 01-22 were recorded before runs
 * checked their input in the worker and took their quick steps as local activities; 23-29 after
 * (the patches `input-checked-by-worker` and `local-light-steps`): a run by inline pipeline and
 * by model name, a rollback after failed verification, approval signals (one refused, audited
 * from the handler), an input that fails the check, a drift check and a manual rollback.
 * Replaying them against today's workflow code catches a change that would break runs already in
 * flight: such a change needs `patched()` (or a new workflow type), not a re-recording.
 */
describe('recorded workflow histories', () => {
  it('replay against the current workflow code without nondeterminism', async () => {
    // Binary protobuf, as the server sends them: exact, and independent of JSON conventions.
    const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.binpb'));
    expect(files.length).toBeGreaterThan(0);
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.binpb$/, ''),
      history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORY_DIR, f))),
    }));
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories))
      results.push(result);
    expect(results).toHaveLength(files.length);
    for (const result of results) expect(result.error, `replay of ${result.workflowId}`).toBeUndefined();
  });
});
