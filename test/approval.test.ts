import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { readPointer } from '../services/registry';
import type { PipelineInput } from '../lib/pipeline';
import { decideCandidate, retrainWorkflowId, startRetrain } from '../client/client';
import { approveSignal, rejectSignal, statusQuery } from '../shared/messages';
import type { RetrainInput } from '../shared/inputs';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { waitFor, waitForStep } from './helpers/runs';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MANUAL: PipelineInput['approval'] = { mode: 'manual', approvers: ['alice'], timeout: '1h' };

function pipeline(name: string, opts: { approval?: PipelineInput['approval']; params?: Record<string, string> } = {}) {
  return testPipeline({
    name,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT, params: opts.params ?? {} },
    approval: opts.approval ?? MANUAL,
  });
}

/** Starts a manual-approval run and waits until it asks for a decision. */
async function startAwaitingApproval(name: string, opts: Parameters<typeof pipeline>[1] = {}) {
  const { handle } = await startRetrain(h.client, h.config, pipeline(name, opts), { requestedBy: 'test' });
  const status = await waitForStep(handle, 'approval');
  expect(status.approval).toMatchObject({ required: true, approvers: ['alice'], decision: 'pending' });
  expect(status.gate?.passed).toBe(true);
  return { handle, status };
}

async function approvalAudit(model: string) {
  return (await listAudit(h.store, model)).filter((e) => e.type === 'approval');
}

describe('manual approval', () => {
  it('promotes the candidate when a listed approver approves by signal', async () => {
    const name = 'approve-signal';
    const { handle, status } = await startAwaitingApproval(name);
    expect((await readPointer(h.store, name)).pointer.champion).toBeNull(); // nothing promoted while waiting

    await handle.signal(approveSignal, { by: 'alice', reason: 'looks good' });
    const summary = await handle.result();

    expect(summary.outcome).toBe('promoted');
    expect(summary.approval).toMatchObject({ decision: 'approved', by: 'alice', reason: 'looks good', ignored: [] });
    expect(summary.championAfter).toBe(status.version);
    expect((await readPointer(h.store, name)).pointer.champion).toBe(status.version);
    const [audit] = await approvalAudit(name);
    expect(audit).toMatchObject({ outcome: 'ok', version: status.version });
    expect(audit.summary).toMatch(/approved by alice: looks good/);
  });

  it('keeps the champion when a listed approver rejects by signal', async () => {
    const name = 'reject-signal';
    const first = await (await startRetrain(h.client, h.config, pipeline(name, { approval: { mode: 'auto' } }))).handle.result();
    expect(first.outcome).toBe('promoted');

    const { handle, status } = await startAwaitingApproval(name, { params: { note: 'second candidate' } });
    expect(status.version).not.toBe(first.version);
    await handle.signal(rejectSignal, { by: 'alice', reason: 'wait for the new features' });
    const summary = await handle.result();

    expect(summary.outcome).toBe('rejected-by-approver');
    expect(summary.approval).toMatchObject({ decision: 'rejected', by: 'alice', reason: 'wait for the new features' });
    expect(summary.message).toMatch(/rejected by alice \(wait for the new features\)/);
    expect(summary.championAfter).toBe(first.version);
    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBe(first.version);
    expect(pointer.history).toHaveLength(1);
    const [audit] = await approvalAudit(name);
    expect(audit).toMatchObject({ outcome: 'rejected', version: status.version });
  });

  it('ignores a signal from someone who is not a listed approver, and records it', async () => {
    const name = 'approve-unlisted-signal';
    const { handle } = await startAwaitingApproval(name);

    await handle.signal(approveSignal, { by: 'mallory', reason: 'trust me' });
    const afterMallory = await waitFor('the ignored decision to show in the status', async () => {
      const s = await handle.query(statusQuery);
      return s.approval.ignored.length > 0 ? s : null;
    });
    expect(afterMallory.step).toBe('approval');
    expect(afterMallory.approval.decision).toBe('pending');
    expect(afterMallory.approval.ignored).toEqual([
      expect.objectContaining({ by: 'mallory', action: 'approve', why: expect.stringMatching(/not a listed approver/) }),
    ]);
    expect((await readPointer(h.store, name)).pointer.champion).toBeNull();

    await handle.signal(approveSignal, { by: 'alice', reason: 'now it counts' });
    const summary = await handle.result();
    expect(summary.outcome).toBe('promoted');
    expect(summary.approval.by).toBe('alice');
    expect(summary.approval.ignored).toHaveLength(1);
    // The audit keeps the ignored attempt beside the decision that counted.
    const [audit] = await approvalAudit(name);
    expect((audit.details as { ignored: unknown[] }).ignored).toEqual([expect.objectContaining({ by: 'mallory' })]);
  });

  it('audits every refused decision by signal as its own event, with who, why and how it came', async () => {
    const name = 'approve-refused-audit';
    const { handle, status } = await startAwaitingApproval(name);
    await handle.signal(rejectSignal, { by: 'mallory', reason: 'no' });
    await handle.signal(approveSignal, { by: 'alice', version: 'v000000000000' });
    await waitFor('both refused decisions in the status', async () =>
      (await handle.query(statusQuery)).approval.ignored.length === 2 ? true : null,
    );
    await handle.signal(approveSignal, { by: 'alice' });
    expect((await handle.result()).outcome).toBe('promoted');

    // The two audit writes may finish in either order: sort by who decided.
    const refused = (await listAudit(h.store, name))
      .filter((e) => e.type === 'refused-decision')
      .sort((a, b) => String(b.details.by).localeCompare(String(a.details.by)));
    expect(refused.map((e) => [e.outcome, e.details.by, e.details.action, e.details.via])).toEqual([
      ['rejected', 'mallory', 'reject', 'signal'],
      ['rejected', 'alice', 'approve', 'signal'],
    ]);
    expect(refused[0].summary).toMatch(/mallory is not a listed approver/);
    expect(refused[1].summary).toMatch(new RegExp(`candidate is ${status.version}`));
    expect(refused.every((e) => e.version === status.version)).toBe(true);
  });

  it('audits a run cancelled while it waits for approval: where it stopped and why', async () => {
    const name = 'approve-failed-run-audit';
    const { handle } = await startAwaitingApproval(name);
    await handle.cancel();
    await handle.result().catch(() => undefined);
    const [failed] = (await listAudit(h.store, name)).filter((e) => e.type === 'run-failed');
    expect(failed.details).toMatchObject({ step: 'approval', outcome: 'cancelled', errorType: 'Cancelled' });
    expect(failed.summary).toMatch(/^cancelled during approval/);
  });

  it('ignores an approval sent before there is a candidate to approve', async () => {
    const name = 'approve-too-early';
    const input: RetrainInput = { pipeline: pipeline(name), trainingTaskQueue: h.config.trainingTaskQueue };
    // Signal-with-start delivers the signal in the run's very first workflow task.
    const handle = await h.client.workflow.signalWithStart('retrainPipeline', {
      taskQueue: h.config.taskQueue,
      workflowId: retrainWorkflowId(name),
      args: [input],
      signal: approveSignal,
      signalArgs: [{ by: 'alice', reason: 'pre-approved' }],
    });
    const status = await waitForStep(handle, 'approval');
    expect(status.approval.decision).toBe('pending');
    expect(status.approval.ignored).toEqual([expect.objectContaining({ by: 'alice', why: 'the run is not waiting for approval yet' })]);

    await handle.signal(rejectSignal, { by: 'alice' });
    expect((await handle.result()).outcome).toBe('rejected-by-approver');
  });

  it('refuses an update from an unlisted approver and answers a listed one with the status', async () => {
    const name = 'approve-update';
    const { handle, status } = await startAwaitingApproval(name);

    const refused = await decideCandidate(h.client, name, 'approve', { by: 'mallory' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (refused as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).message).toMatch(/mallory is not a listed approver \(alice\)/);
    // A refused update leaves no trace in the run: nothing recorded, still waiting.
    const during = await handle.query(statusQuery);
    expect(during.approval).toMatchObject({ decision: 'pending', ignored: [] });

    const wrongVersion = await decideCandidate(h.client, name, 'approve', { by: 'alice', version: 'v000000000000' }).catch(
      (err: unknown) => err,
    );
    expect(wrongVersion).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((wrongVersion as WorkflowUpdateFailedError).cause as Error).message).toMatch(new RegExp(`candidate is ${status.version}`));

    const answer = await decideCandidate(h.client, name, 'approve', { by: 'alice', reason: 'ship it', version: status.version! });
    expect(answer.approval).toMatchObject({ decision: 'approved', by: 'alice', reason: 'ship it' });
    expect(answer.version).toBe(status.version);

    const late = await decideCandidate(h.client, name, 'reject', { by: 'alice' }).catch((err: unknown) => err);
    // A second decision never counts: refused while the run promotes, or refused by the server once it finished.
    const lateReason = late instanceof WorkflowUpdateFailedError ? (late.cause as Error).message : (late as Error).message;
    expect(lateReason).toMatch(/already approved|already completed/);

    const summary = await handle.result();
    expect(summary.outcome).toBe('promoted');
    expect(summary.approval.by).toBe('alice');
  });

  it('rejects the candidate when nobody decides before the timeout (onTimeout reject)', async () => {
    const name = 'approval-timeout-reject';
    const { handle } = await startRetrain(
      h.client,
      h.config,
      pipeline(name, { approval: { mode: 'manual', approvers: ['alice'], timeout: '2s', onTimeout: 'reject' } }),
    );
    const summary = await handle.result();

    expect(summary.outcome).toBe('rejected-by-approver');
    expect(summary.approval).toMatchObject({ decision: 'timed-out', by: 'timeout' });
    expect(summary.approval.reason).toMatch(/no decision within 2s; policy: reject/);
    expect((await readPointer(h.store, name)).pointer.champion).toBeNull();
    const [audit] = await approvalAudit(name);
    expect(audit.outcome).toBe('rejected');
  });

  it('promotes the candidate when nobody decides before the timeout (onTimeout approve)', async () => {
    const name = 'approval-timeout-approve';
    const { handle } = await startRetrain(
      h.client,
      h.config,
      pipeline(name, { approval: { mode: 'manual', approvers: ['alice'], timeout: '2s', onTimeout: 'approve' } }),
    );
    const summary = await handle.result();

    expect(summary.outcome).toBe('promoted');
    expect(summary.approval).toMatchObject({ decision: 'approved', by: 'timeout' });
    expect((await readPointer(h.store, name)).pointer.champion).toBe(summary.version);
  });
});
