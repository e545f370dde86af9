import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../lib/api-tokens';
import { InvalidInputError, RunConflictError } from '../lib/errors';
import { startApi, type RunningApi } from '../api/server';
import { retrainWorkflowId, startRetrain } from '../client/client';
import { listAudit } from '../services/audit-log';
import { loadConfig } from '../services/config';
import type { RetrainSummary } from '../shared/inputs';
import { makeUserProject } from './helpers/cli-project';
import { REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

/*
 * A run's asOf: recorded in its status and its snapshot event, passed to the snapshot, validated
 * by the workflow whoever starts it, and compared before a retrain joins a run in progress.
 */

let h: Harness;
let windowedCsv: string;

beforeAll(async () => {
  h = await startHarness();
  // The churn example with a labelled_at per row, all in 2025: every window below holds every row,
  // so these tests do not depend on how the snapshot filters rows.
  const [header, ...rows] = readFileSync(join(REPO, 'examples/data/churn.csv'), 'utf8').trim().split('\n');
  const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + (i % 360) * 86_400_000).toISOString().slice(0, 10);
  windowedCsv = join(h.config.workDir, 'churn-labelled.csv');
  writeFileSync(windowedCsv, [`${header},labelled_at`, ...rows.map((r, i) => `${r},${day(i)}T12:00:00Z`)].join('\n') + '\n');
});
afterAll(async () => {
  await h?.close();
});

const fast = { training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT } };
const windowed = (name: string, window: { column: string; last?: string } = { column: 'labelled_at' }) =>
  testPipeline({ name, ...fast, source: { path: windowedCsv, window } });

/** The failure a run ended with: its ApplicationFailure cause. */
async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await result.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('a run reads its data as of a time', () => {
  it('as of its start by default: the status, its window and the snapshot event say so', async () => {
    const { handle } = await startRetrain(h.client, h.config, windowed('asof-default', { column: 'labelled_at', last: '3650d' }));
    const summary: RetrainSummary = await handle.result();
    const startedAt = (await handle.describe()).startTime.toISOString();

    expect(summary.outcome).toBe('promoted');
    expect(summary.asOf).toBe(startedAt);
    expect(summary.window).toEqual({
      column: 'labelled_at',
      from: new Date(Date.parse(startedAt) - 3650 * 86_400_000).toISOString(),
      to: startedAt,
    });
    const snapshot = (await listAudit(h.store, 'asof-default')).find((e) => e.type === 'snapshot')!;
    expect(snapshot.details).toMatchObject({ asOf: startedAt, window: summary.window });
    expect(snapshot.summary).toContain(`rows with labelled_at in [${summary.window!.from}, ${startedAt})`);
  });

  it('a backfill: the asOf it was started with, normalised to UTC, handed to the snapshot', async () => {
    const { handle } = await startRetrain(h.client, h.config, windowed('asof-backfill', { column: 'labelled_at', last: '730d' }), {
      asOf: '2026-10-01T02:00:00+02:00',
    });
    const summary: RetrainSummary = await handle.result();
    expect(summary.asOf).toBe('2026-10-01T00:00:00.000Z');
    expect(summary.window).toEqual({ column: 'labelled_at', from: '2024-10-01T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' });

    // The snapshot activity got the asOf (its input is in the history).
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'snapshotDataset');
    const input = defaultPayloadConverter.fromPayload<{ asOf?: string }>(scheduled!.input!.payloads![0]!);
    expect(input.asOf).toBe('2026-10-01T00:00:00.000Z');
  });

  it('the same asOf on the same data: the same snapshot, and no new version', async () => {
    const pipeline = windowed('asof-rerun');
    const first: RetrainSummary = await (await startRetrain(h.client, h.config, pipeline, { asOf: '2026-10-01' })).handle.result();
    const again: RetrainSummary = await (await startRetrain(h.client, h.config, pipeline, { asOf: '2026-10-01' })).handle.result();
    expect(again.snapshot).toMatchObject({ sha256: first.snapshot!.sha256, created: false });
    expect(again.version).toBe(first.version);
    expect(again.outcome).toBe('unchanged');
  });

  it('a backfill snapshots only the rows of its window; another window is another version', async () => {
    const pipeline = windowed('asof-rows', { column: 'labelled_at', last: '90d' });
    const labelled = readFileSync(windowedCsv, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((r) => r.slice(r.lastIndexOf(',') + 1));
    const within = (from: string, to: string) => labelled.filter((t) => t >= from && t < to).length;
    const july: RetrainSummary = await (await startRetrain(h.client, h.config, pipeline, { asOf: '2025-07-01' })).handle.result();
    expect(july.snapshot!.rows).toBe(within('2025-04-02', '2025-07-01'));
    const october: RetrainSummary = await (await startRetrain(h.client, h.config, pipeline, { asOf: '2025-10-01' })).handle.result();
    expect(october.snapshot!.rows).toBe(within('2025-07-03', '2025-10-01'));
    expect(october.snapshot!.sha256).not.toBe(july.snapshot!.sha256);
    expect(october.version).not.toBe(july.version);
  });

  it('a pipeline without a window records its asOf and no window', async () => {
    const summary: RetrainSummary = await (
      await startRetrain(h.client, h.config, testPipeline({ name: 'asof-nowindow', ...fast }))
    ).handle.result();
    expect(summary.asOf).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(summary.window).toBeNull();
  });
});

describe('a bad asOf fails the run at once, whoever started it', () => {
  const start = (input: Record<string, unknown>, id: string) =>
    h.client.workflow.start('retrainPipeline', { taskQueue: h.config.taskQueue, workflowId: id, args: [input] });

  it('garbage, a time without its zone, or the future: InvalidInput, not retried, naming asOf', async () => {
    const pipeline = windowed('asof-bad');
    for (const [asOf, message] of [
      ['yesterday', /asOf: expected a date \(2026-10-01, midnight UTC\) or an ISO-8601 time with its zone/],
      ['2026-10-01T12:00:00', /asOf: expected a date/],
      ['2999-01-01', /asOf: 2999-01-01T00:00:00\.000Z is in the future/],
      [20261001, /asOf: expected a date/],
    ] as const) {
      const handle = await start({ pipeline, asOf }, `asof-bad-${String(asOf).replace(/[^0-9a-z]/gi, '')}`);
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(message);
    }
  });

  it('a backfill of a source without a window, started by model name (temporal CLI, Python): InvalidInput', async () => {
    // pipelines/churn.ts of this repository reads every row of its file: no window.
    const handle = await start({ model: 'churn', asOf: '2026-10-01' }, `asof-by-name-${Date.now()}`);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toMatch(/pipeline churn has no source\.window/);
  });

  it('startRetrain refuses the same before starting anything', async () => {
    await expect(startRetrain(h.client, h.config, testPipeline({ name: 'asof-client' }), { asOf: '2026-10-01' })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(startRetrain(h.client, h.config, windowed('asof-client'), { asOf: 'soon' })).rejects.toThrow(/expected a date/);
    await expect(h.client.workflow.getHandle(retrainWorkflowId('asof-client')).describe()).rejects.toThrow(/not found/i);
  });
});

describe('joining a run in progress', () => {
  // A task queue nobody polls: the run stays in progress for as long as the test needs.
  const idle = () => ({ ...h.config, taskQueue: `idle-${Math.random().toString(36).slice(2, 10)}` });

  it('joins a run that reads as of the same time, and refuses one that reads as of another', async () => {
    const config = idle();
    const pipeline = windowed('asof-join');
    const first = await startRetrain(h.client, config, pipeline, { asOf: '2026-10-01' });
    try {
      expect(first.joined).toBe(false);
      // The same time, written another way: the same run.
      const same = await startRetrain(h.client, config, pipeline, { asOf: '2026-10-01T02:00:00+02:00' });
      expect(same.joined).toBe(true);
      const other = startRetrain(h.client, config, pipeline, { asOf: '2026-09-01' });
      await expect(other).rejects.toThrow(RunConflictError);
      await expect(other).rejects.toThrow(
        /already in progress \(retrain-asof-join\) and reads the data as of 2026-10-01T00:00:00\.000Z; this request asks for the data as of 2026-09-01T00:00:00\.000Z/,
      );
      // No asOf asks for today's data: a backfill in progress is not that.
      await expect(startRetrain(h.client, config, pipeline)).rejects.toThrow(/this request asks for the data as of now \(no asOf\)/);
    } finally {
      await first.handle.terminate('test done');
    }
  });

  it('refuses a backfill while a run as of its start is in progress, and joins a plain retrain', async () => {
    const config = idle();
    const pipeline = windowed('asof-join-plain');
    const first = await startRetrain(h.client, config, pipeline);
    try {
      expect((await startRetrain(h.client, config, pipeline)).joined).toBe(true);
      await expect(startRetrain(h.client, config, pipeline, { asOf: '2026-10-01' })).rejects.toThrow(
        /reads the data as of its start \(\d{4}-.*Z\); this request asks for the data as of 2026-10-01T00:00:00\.000Z/,
      );
    } finally {
      await first.handle.terminate('test done');
    }
  });

  it('through the HTTP API: 202 started, 200 joined, 409 RunConflict for another asOf', async () => {
    const project = makeUserProject('retrain-asof-api-');
    writeFileSync(
      join(project, 'pipelines', 'asof-api.ts'),
      `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: 'asof-api',
  task: 'classification',
  source: { path: ${JSON.stringify(windowedCsv)}, window: { column: 'labelled_at' } },
  label: 'churned',
  features: [{ name: 'tenure_months', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
  metrics: { primary: 'accuracy' },
  owners: { monitoring: 'm@x', retraining: 'r@x', inference: 'i@x', logging: 'l@x' },
});
`,
    );
    const token = 'asof-api-token-0123456789';
    const config = {
      ...loadConfig({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: h.store.location }),
      temporalAddress: h.config.temporalAddress,
      taskQueue: idle().taskQueue,
    };
    let api: RunningApi | undefined;
    try {
      api = await startApi(config, {
        address: '127.0.0.1:0',
        logLevel: 'silent',
        tokens: { tokens: [{ name: 'ops', sha256: hashToken(token), scopes: ['retrain'] }] },
      });
      const post = async (body: unknown) => {
        const res = await fetch(`${api!.url}/v1/models/asof-api/retrain`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as { joined?: boolean; error?: { code: string; message: string } } };
      };
      expect(await post({ asOf: '2026-10-01' })).toMatchObject({ status: 202, body: { joined: false } });
      expect(await post({ asOf: '2026-10-01T00:00:00Z', reason: 'again' })).toMatchObject({ status: 200, body: { joined: true } });
      const conflict = await post({ reason: 'nightly' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error?.code).toBe('RunConflict');
      expect(conflict.body.error?.message).toMatch(
        /reads the data as of 2026-10-01T00:00:00\.000Z; this request asks for the data as of now/,
      );
    } finally {
      await api?.close();
      await h.client.workflow
        .getHandle(retrainWorkflowId('asof-api'))
        .terminate('test done')
        .catch(() => undefined);
    }
  });
});
