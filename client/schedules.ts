import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { RetrainConfig } from '../lib/config';
import type { Pipeline } from '../lib/pipeline';
import type { ScheduleEvidence } from '../lib/readiness';
import { driftScheduleId } from '../lib/workflow-ids';
import type { DriftCheckInput } from '../shared/inputs';
// Type-only: the workflow's signature checks the schedule's arguments; no workflow code is loaded.
import type { driftCheck } from '../workflows/drift-check';

/** A schedule that starts the drift check, its `args` checked against the workflow's parameters. */
type DriftScheduleOptions = ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof driftCheck>>;

/** What {@link applySchedules} did with one pipeline's drift schedule, and why when it did nothing. */
export interface AppliedSchedule {
  model: string;
  scheduleId: string;
  cron: string | null;
  action: 'created' | 'updated' | 'skipped' | 'deleted';
  reason?: string;
}

const MANAGED_MEMO = { managedBy: 'retrain schedules apply' };

function scheduleOptions(config: Pick<RetrainConfig, 'taskQueue'>, pipeline: Pipeline, cron: string): DriftScheduleOptions {
  return {
    scheduleId: driftScheduleId(pipeline.name),
    spec: { cronExpressions: [cron] },
    action: {
      type: 'startWorkflow',
      workflowType: 'driftCheck',
      taskQueue: config.taskQueue,
      workflowId: driftScheduleId(pipeline.name),
      // The model name only: each check runs the definition the worker has then, so a changed
      // pipeline takes effect at the next check after the worker is deployed with it.
      args: [{ model: pipeline.name, trigger: 'schedule' }],
      // The server keeps cron as calendar specs; the checks it starts carry the cron as asked.
      memo: { cron },
    },
    // A check still running when the next is due is not doubled: the next one is skipped.
    policies: { overlap: 'SKIP', catchupWindow: '10m' },
    memo: MANAGED_MEMO,
  };
}

/**
 * Makes the server's drift schedules match the pipeline definitions: one schedule per pipeline
 * with `schedule.cron` and `drift`, created or updated in place (running it twice changes
 * nothing). With `prune`, schedules this command made for pipelines that no longer have one
 * are deleted.
 */
export async function applySchedules(
  client: Client,
  config: Pick<RetrainConfig, 'taskQueue'>,
  pipelines: Pipeline[],
  prune = false,
): Promise<AppliedSchedule[]> {
  const results: AppliedSchedule[] = [];
  for (const pipeline of pipelines) {
    const scheduleId = driftScheduleId(pipeline.name);
    const cron = pipeline.schedule?.cron ?? null;
    if (!cron || !pipeline.drift) {
      results.push({
        model: pipeline.name,
        scheduleId,
        cron,
        action: 'skipped',
        reason: !cron ? 'no schedule.cron in the pipeline' : 'no drift settings in the pipeline',
      });
      continue;
    }
    const options = scheduleOptions(config, pipeline, cron);
    const handle = client.schedule.getHandle(scheduleId);
    try {
      await handle.update<typeof driftCheck>((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
      }));
      results.push({ model: pipeline.name, scheduleId, cron, action: 'updated' });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create<typeof driftCheck>(options);
      results.push({ model: pipeline.name, scheduleId, cron, action: 'created' });
    }
  }
  if (prune) {
    const wanted = new Set(results.filter((r) => r.action !== 'skipped').map((r) => r.scheduleId));
    for await (const summary of client.schedule.list()) {
      if (summary.memo?.managedBy !== MANAGED_MEMO.managedBy || wanted.has(summary.scheduleId)) continue;
      await client.schedule.getHandle(summary.scheduleId).delete();
      results.push({
        model: summary.scheduleId.replace(/^drift-/, ''),
        scheduleId: summary.scheduleId,
        cron: null,
        action: 'deleted',
        reason: 'its pipeline has no schedule any more',
      });
    }
  }
  return results;
}

/** One drift schedule on the server, as `retrain schedules list` shows it. */
export interface ScheduleRow {
  scheduleId: string;
  /** The cron expression the pipeline asked for; empty when the action does not say. */
  cron: string[];
  paused: boolean;
  /** The note kept on the schedule (set by pause or unpause), if any. */
  note: string | null;
  /** The next 3 start times, ISO-8601 UTC. */
  nextRuns: string[];
  /** The last 3 runs started; `scheduledAt` is ISO-8601 UTC. */
  recentRuns: { scheduledAt: string; workflowId: string }[];
}

/**
 * The cron expression a schedule was applied with. The server turns cron into calendar specs, so
 * the action says what was asked: its memo, or the inline pipeline of schedules applied before
 * they named the model only.
 */
function askedCron(action: ScheduleDescription['action']): string[] {
  if (action.type !== 'startWorkflow') return [];
  if (typeof action.memo?.cron === 'string') return [action.memo.cron];
  const inline = (action.args as Partial<DriftCheckInput>[] | undefined)?.[0]?.pipeline?.schedule?.cron;
  return inline ? [inline] : [];
}

/** The drift schedules on the server (those `apply` manages). */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.memo?.managedBy !== MANAGED_MEMO.managedBy) continue;
    const description = await client.schedule.getHandle(summary.scheduleId).describe();
    rows.push({
      scheduleId: summary.scheduleId,
      cron: askedCron(description.action),
      paused: description.state.paused,
      note: description.state.note ?? null,
      nextRuns: description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
      recentRuns: description.info.recentActions
        .slice(-3)
        .map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    });
  }
  return rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/**
 * How long one schedule lookup may take, milliseconds: a slow server is "unknown", not a hung CI
 * job. 5 s was once too short for a dev server on 2 cores busy with a whole test run.
 */
const SCHEDULE_DEADLINE_MS = 10_000;

/** The model's drift schedule, as the server describes it (describe, not list: a listing lags behind). */
export async function describeSchedule(client: Client, model: string): Promise<ScheduleEvidence> {
  const scheduleId = driftScheduleId(model);
  try {
    const d = await client.withDeadline(Date.now() + SCHEDULE_DEADLINE_MS, () => client.schedule.getHandle(scheduleId).describe());
    // The server keeps cron as calendar specs; `schedules apply` puts the cron asked for in the action's memo.
    const cron = d.action.type === 'startWorkflow' && typeof d.action.memo?.cron === 'string' ? d.action.memo.cron : null;
    return { state: 'found', scheduleId, paused: d.state.paused, note: d.state.note ?? null, cron };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return { state: 'missing', scheduleId };
    return { state: 'unknown', scheduleId, reason: firstLine(err) };
  }
}

/**
 * The first line of an error's message: what went wrong (the lines after it say how to start a
 * server), with its cause's when the SDK wraps one ("Failed to describe schedule" alone says not why).
 */
export function firstLine(err: unknown): string {
  const line = (e: unknown) =>
    String(e instanceof Error ? e.message : e)
      .split('\n')[0]!
      .replace(/\.$/, '');
  const cause = err instanceof Error && err.cause ? line(err.cause) : null;
  return cause ? `${line(err)}: ${cause}` : line(err);
}
