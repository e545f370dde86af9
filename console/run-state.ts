import { WorkflowNotFoundError } from '@temporalio/client';
import { inspectRun, type RunDescription } from '../client/client';
import type { RunStatus } from '../shared/status';
import type { TemporalLink } from '../api/temporal';

/** Where a model's latest retraining run stands, as far as Temporal can say within a page load. */
export type RunState =
  | { kind: 'none' }
  | { kind: 'known'; description: RunDescription; status: RunStatus }
  /** The run exists but no worker polls its queue, so only the server's view is known. */
  | { kind: 'no-worker'; description: RunDescription; why: string }
  | { kind: 'unreachable'; why: string };

/** A page waits this long for Temporal, then shows what it has without the run. */
const TEMPORAL_WAIT_MS = 3_000;

/** After Temporal failed to answer, pages do not wait for it again for this long. */
const UNREACHABLE_MEMO_MS = 15_000;
const unreachableSince = new WeakMap<TemporalLink, { at: number; why: string }>();

/** The latest run of `model`; never throws (a page shows a missing run as such). */
export async function runState(temporal: TemporalLink, model: string): Promise<RunState> {
  const down = unreachableSince.get(temporal);
  if (down && Date.now() - down.at < UNREACHABLE_MEMO_MS) return { kind: 'unreachable', why: down.why };
  const state = await askTemporal(temporal, model);
  if (state.kind === 'unreachable') unreachableSince.set(temporal, { at: Date.now(), why: state.why });
  else unreachableSince.delete(temporal);
  return state;
}

async function askTemporal(temporal: TemporalLink, model: string): Promise<RunState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RunState>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'unreachable', why: `Temporal did not answer within ${TEMPORAL_WAIT_MS / 1000} s` }),
      TEMPORAL_WAIT_MS,
    );
  });
  const asked = (async (): Promise<RunState> => {
    try {
      const client = await temporal.get();
      const { description, status, noWorker } = await inspectRun(client, model);
      if (status) return { kind: 'known', description, status };
      return { kind: 'no-worker', description, why: noWorker?.message ?? 'no worker polls the run’s task queue' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { kind: 'none' };
      return { kind: 'unreachable', why: (err as Error).message };
    }
  })();
  try {
    return await Promise.race([asked, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a candidate of the run waits for an approver. */
export function waitsForApproval(state: RunState): state is Extract<RunState, { kind: 'known' }> {
  return state.kind === 'known' && state.status.outcome === 'running' && state.status.approval.decision === 'pending';
}

/** A link to the run in the Temporal UI, when one is configured. */
export function temporalRunUrl(uiUrl: string | undefined, namespace: string, d: { workflowId: string; runId: string }): string | null {
  if (!uiUrl) return null;
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(d.workflowId)}/${encodeURIComponent(d.runId)}/history`;
}
