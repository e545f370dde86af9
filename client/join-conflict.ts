import { asOfSchema } from '../lib/time-window';
import type { StartedRun } from './run-input';

/**
 * Why a retrain that asks for the data as of `requested` (ISO-8601 UTC; undefined: as of its
 * start) cannot join the run in progress, or null when it can: both name the same asOf, or
 * neither names one. A request without asOf does not join a backfill either: it asked for
 * today's data.
 */
export function joinConflict(model: string, workflowId: string, requested: string | undefined, running: StartedRun): string | null {
  const given = (running.input as { asOf?: unknown } | null | undefined)?.asOf;
  const theirs = given === undefined || given === null ? undefined : normalised(given);
  if (theirs === requested) return null;
  const reads =
    theirs === undefined ? `the data as of its start${running.startedAt ? ` (${running.startedAt})` : ''}` : `the data as of ${theirs}`;
  const asked = requested === undefined ? 'the data as of now (no asOf)' : `the data as of ${requested}`;
  return (
    `a retraining run of ${model} is already in progress (${workflowId}) and reads ${reads}; this request asks for ${asked}, ` +
    'so joining it would answer with a model of other data. Wait for that run to end, or cancel it, then ask again'
  );
}

/** A run's asOf as the client normalises its own (the run validated it; a value it refused is compared as given). */
function normalised(value: unknown): string {
  const parsed = asOfSchema(() => Infinity).safeParse(value);
  return parsed.success ? parsed.data : String(value);
}
