import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import type { AuditEvent } from '../lib/audit';
import { keys } from '../lib/keys';
import { rollbackModel, startRetrain } from '../client/client';
import type { RunStatus } from '../shared/status';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { activityAttempts, causes, expectRunFailure } from './helpers/runs';

let h: Harness;
/** A loopback chat webhook standing in for the retraining owner's channel. */
let chat: Server;
let chatUrl: string;
const chatMessages: { text: string }[] = [];
beforeAll(async () => {
  h = await startHarness();
  chat = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      chatMessages.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  chat.listen(0, '127.0.0.1');
  await once(chat, 'listening');
  chatUrl = `http://127.0.0.1:${(chat.address() as { port: number }).port}/hooks/retraining`;
});
afterAll(async () => {
  chat?.close();
  await h?.close();
});

function pipeline(name: string, params: Record<string, string | boolean> = {}) {
  return testPipeline({
    name,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT, params, maxAttempts: 2 },
    alerts: { retraining: [{ url: chatUrl, format: 'slack' }] },
  });
}

/** Runs a pipeline that should promote, returns its version. */
async function promote(name: string, params: Record<string, string | boolean> = {}): Promise<string> {
  const summary = await (await startRetrain(h.client, h.config, pipeline(name, params))).handle.result();
  expect(summary.outcome).toBe('promoted');
  return summary.version;
}

async function alerts(model: string): Promise<AuditEvent[]> {
  const alertKeys = await h.store.list(`alerts/${model}/`);
  return Promise.all(alertKeys.map(async (k) => JSON.parse((await h.store.get(k))!.toString())));
}

/** Runs the rollback workflow, expecting it to fail; returns the activity's failure. */
async function failedRollback(input: Parameters<typeof rollbackModel>[2]): Promise<ApplicationFailure> {
  const err = await rollbackModel(h.client, h.config, input).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const chain = causes(err as Error);
  expect(chain[0]).toBeInstanceOf(ActivityFailure);
  expect((chain[0] as ActivityFailure).activityType).toBe('rollbackChampion');
  expect(chain[1]).toBeInstanceOf(ApplicationFailure);
  return chain[1] as ApplicationFailure;
}

describe('automatic rollback after promotion', () => {
  it('rolls back to the previous champion when verification fails', async () => {
    const name = 'rollback-verify';
    const v1 = await promote(name);
    const { handle } = await startRetrain(h.client, h.config, pipeline(name, { fail_verify: true }));
    const { application } = await expectRunFailure(handle);

    expect(application.type).toBe('PromotionRolledBack');
    expect(application.nonRetryable).toBe(true);
    const summary = application.details?.[0] as RunStatus;
    const v2 = summary.version!;
    expect(v2).not.toBe(v1);
    expect(summary).toMatchObject({ outcome: 'rolled-back', step: 'done', championBefore: v1, championAfter: v1 });
    expect(application.message).toMatch(new RegExp(`${v2} failed verification and was rolled back to ${v1}`));
    expect(application.message).toMatch(/failing verification on purpose/); // the predict command's stderr
    expect(summary.steps.map((s) => s.step).slice(-3)).toEqual(['promote', 'verify', 'rollback']);
    expect((await activityAttempts(handle)).verifyChampion).toEqual([2]); // retried before giving up

    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBe(v1);
    expect(pointer.history.map((c) => [c.action, c.from, c.to])).toEqual([
      ['promote', null, v1],
      ['promote', v1, v2],
      ['rollback', v2, v1],
    ]);
    expect(pointer.history[2].reason).toMatch(new RegExp(`verification of ${v2} failed`));

    const { runId } = await handle.describe();
    const run = (await listAudit(h.store, name)).filter((e) => e.runId === runId);
    const types = run.map((e) => e.type);
    expect(types.filter((t) => ['promotion', 'verification', 'rollback', 'alert'].includes(t))).toEqual([
      'promotion',
      'verification',
      'rollback',
      'alert',
    ]);
    expect(run.find((e) => e.type === 'verification')).toMatchObject({ version: v2, outcome: 'failed' });
    expect(run.find((e) => e.type === 'rollback')).toMatchObject({ version: v1, outcome: 'ok' });

    const [alert] = await alerts(name);
    expect(alert).toMatchObject({ type: 'alert', model: name, version: v2 });
    expect(alert.summary).toMatch(/critical: .*rolled back after failed verification \(to ml@example\.com\)/);
    expect(alert.details.message).toMatch(new RegExp(`Champion restored to ${v1}`));
    expect(await h.store.exists(keys.alert(name, alert.id))).toBe(true);
    // The retraining area's route got the alert, once, as a chat message.
    const sent = chatMessages.filter((m) => m.text.includes(`${name}: ${v2} rolled back`));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^:rotating_light: \*.*rolled back after failed verification\*\nChampion restored to /);
    expect(sent[0]!.text).toContain('retraining owner: ml@example.com');
  });

  it('withdraws a first champion that fails verification, leaving no champion', async () => {
    const name = 'rollback-first-verify';
    const { handle } = await startRetrain(h.client, h.config, pipeline(name, { fail_verify: true }));
    const { application } = await expectRunFailure(handle);

    expect(application.type).toBe('PromotionRolledBack');
    expect(application.message).toMatch(/rolled back to no champion/);
    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBeNull();
    expect(pointer.previous).toBeNull();
    expect(pointer.history.map((c) => c.action)).toEqual(['promote', 'rollback']);
    expect(await listVersions(h.store, name)).toHaveLength(1); // the version stays registered, for the record
    expect(await alerts(name)).toHaveLength(1);
  });
});

describe('manual rollback', () => {
  it('restores a named version', async () => {
    const name = 'rollback-manual';
    const v1 = await promote(name);
    const v2 = await promote(name, { note: 'second' });
    expect((await readPointer(h.store, name)).pointer).toMatchObject({ champion: v2, previous: v1 });

    const pointer = await rollbackModel(h.client, h.config, {
      model: name,
      to: v1,
      reason: 'v2 misbehaves in production',
      requestedBy: 'carol',
      notify: 'ml@example.com',
    });

    expect(pointer.champion).toBe(v1);
    expect(pointer.previous).toBeNull(); // nothing came before v1: a second rollback has nowhere to go
    expect(pointer.history.at(-1)).toMatchObject({
      action: 'rollback',
      from: v2,
      to: v1,
      actor: 'carol',
      reason: 'v2 misbehaves in production',
    });
    expect((await readPointer(h.store, name)).pointer.champion).toBe(v1);
    const rollbacks = (await listAudit(h.store, name)).filter((e) => e.type === 'rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({ version: v1, outcome: 'ok' });
    expect(rollbacks[0].details).toMatchObject({ from: v2, to: v1, actor: 'carol' });
    const [alert] = await alerts(name);
    expect(alert.summary).toMatch(/warning: .*rolled back to .* by carol/);

    // Walking down the stack: with nothing before v1 there is no previous champion left.
    const again = await failedRollback({ model: name, reason: 'again', requestedBy: 'carol' });
    expect(again.type).toBe('RegistryConflict');
    expect((await readPointer(h.store, name)).pointer.champion).toBe(v1);
  });

  it('rolls back to the previous champion when no version is named', async () => {
    const name = 'rollback-previous';
    const v1 = await promote(name);
    await promote(name, { note: 'second' });
    const pointer = await rollbackModel(h.client, h.config, { model: name, reason: 'bad', requestedBy: 'carol' });
    expect(pointer.champion).toBe(v1);
  });

  it('does not promote a rolled-back version again when the same inputs are rerun', async () => {
    const name = 'rollback-no-repromote';
    const v1 = await promote(name);
    const v2 = await promote(name, { note: 'second' });
    await rollbackModel(h.client, h.config, { model: name, reason: 'v2 is wrong for EU customers', requestedBy: 'carol' });

    const rerun = await (await startRetrain(h.client, h.config, pipeline(name, { note: 'second' }))).handle.result();

    expect(rerun).toMatchObject({ outcome: 'unchanged', version: v2, reusedVersion: true, championAfter: v1 });
    expect(rerun.message).toMatch(/was rolled back at .*v2 is wrong for EU customers.*not promoted again/);
    expect((await readPointer(h.store, name)).pointer.champion).toBe(v1);
    expect((await listVersions(h.store, name)).map((v) => v.version).sort()).toEqual([v1, v2].sort());
  });

  it('fails with NotFound for a version that does not exist', async () => {
    const name = 'rollback-unknown';
    const v1 = await promote(name);
    const failure = await failedRollback({ model: name, to: 'v0123456789ab', reason: 'typo', requestedBy: 'carol' });
    expect(failure.type).toBe('NotFound');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/has no version v0123456789ab/);
    expect((await readPointer(h.store, name)).pointer.champion).toBe(v1);
    expect((await listAudit(h.store, name)).filter((e) => e.type === 'rollback')).toEqual([]);
  });

  it('fails with RegistryConflict when there is no previous champion', async () => {
    const name = 'rollback-no-previous';
    const v1 = await promote(name);
    const failure = await failedRollback({ model: name, reason: 'nothing to go back to', requestedBy: 'carol' });
    expect(failure.type).toBe('RegistryConflict');
    expect(failure.message).toMatch(/has no previous champion/);
    expect((await readPointer(h.store, name)).pointer).toMatchObject({
      champion: v1,
      history: [expect.objectContaining({ action: 'promote' })],
    });

    const never = await failedRollback({ model: 'rollback-never-trained', reason: 'nothing at all', requestedBy: 'carol' });
    expect(never.type).toBe('RegistryConflict');
  });
});
