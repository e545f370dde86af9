import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, defaultPayloadConverter, type TemporalFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statusQuery } from '../../shared/messages';
import type { RunStatus, RunStep } from '../../shared/status';

/** The failure chain of a run that was expected to fail. */
export interface FailedRun {
  error: WorkflowFailedError;
  /** err.cause, err.cause.cause, … */
  chain: Error[];
  /** The deepest ApplicationFailure: the one an activity or the workflow threw. */
  application: ApplicationFailure;
  /** The ActivityFailure above it, when an activity failed. */
  activity: ActivityFailure | null;
}

/** Waits for the run, expects it to fail, and unwraps its causes. */
export async function expectRunFailure(handle: WorkflowHandle): Promise<FailedRun> {
  const error = await handle.result().then(
    (summary: { outcome?: string }) => new Error(`expected the run to fail, but it ended "${summary?.outcome}"`),
    (err: unknown) => err,
  );
  if (!(error instanceof WorkflowFailedError)) throw error;
  const chain = causes(error);
  const application = chain.filter((e): e is ApplicationFailure => e instanceof ApplicationFailure).at(-1);
  if (!application)
    throw new Error(`no ApplicationFailure under the workflow failure: ${chain.map((e) => e.constructor.name).join(' → ')}`);
  const activity = chain.find((e): e is ActivityFailure => e instanceof ActivityFailure) ?? null;
  return { error, chain, application, activity };
}

export function causes(err: Error): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err.cause; e instanceof Error; e = (e as TemporalFailure).cause) chain.push(e);
  return chain;
}

/** Polls `probe` until it returns something truthy; fails with `what` after `limitMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  limitMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err; // e.g. a query before the first workflow task ran
    }
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls the status query until the run reaches `step`. */
export function waitForStep(handle: WorkflowHandle, step: RunStep): Promise<RunStatus> {
  return waitFor(`run ${handle.workflowId} to reach step ${step}`, async () => {
    const status = await handle.query(statusQuery);
    return status.step === step ? status : null;
  });
}

/**
 * Attempt numbers of each finished activity of a run, by activity type, in history order: the
 * attempt that ended it. Local activities count too (their history entry is a marker).
 */
export async function activityAttempts(handle: WorkflowHandle): Promise<Record<string, number[]>> {
  const history = await handle.fetchHistory();
  const typeOf = new Map<string, string>();
  const attempts: Record<string, number[]> = {};
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
      (attempts[type] ??= []).push(started.attempt ?? 0);
    }
    const local = localActivityOf(event);
    if (local) (attempts[local.type] ??= []).push(local.attempt);
  }
  return attempts;
}

/** The type and attempt of a local activity, from its marker in the history (null for any other event). */
export function localActivityOf(event: temporal.api.history.v1.IHistoryEvent): { type: string; attempt: number } | null {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0] : undefined;
  if (!data) return null;
  const { activity_type, attempt } = defaultPayloadConverter.fromPayload<{ activity_type: string; attempt: number }>(data);
  return { type: activity_type, attempt };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `retrain-${prefix}-`));
}

/** The pid a slow trivial trainer wrote, once it has written it. */
export function waitForPid(pidFile: string): Promise<number> {
  return waitFor(`the trainer to write ${pidFile}`, async () => {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    return Number(text.trim()) || null;
  });
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
