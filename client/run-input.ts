import type { Client } from '@temporalio/client';

/** What a workflow run was started with: its input (the first argument) and when it started. */
export interface StartedRun {
  input: unknown;
  startedAt: string | null;
}

/**
 * The input a workflow run was started with, from the first event of its history (one page of
 * one event, decoded with the client's data converter). Works whoever started the run (the CLI,
 * `temporal workflow start`, a Python client) and needs no worker. Without `runId`: the latest run.
 */
export async function startedRun(client: Client, workflowId: string, runId?: string): Promise<StartedRun> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, ...(runId ? { runId } : {}) },
    maximumPageSize: 1,
  });
  const first = history?.events?.[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  const seconds = first?.eventTime?.seconds;
  const startedAt =
    seconds == null ? null : new Date(Number(seconds) * 1000 + Math.floor((first?.eventTime?.nanos ?? 0) / 1e6)).toISOString();
  const payloads = started?.input?.payloads ?? [];
  if (payloads.length === 0) return { input: undefined, startedAt };
  // Codecs decode in the reverse of the order they encoded.
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads;
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return { input: payloadConverter.fromPayload(decoded[0]!), startedAt };
}
