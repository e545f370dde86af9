import { z } from 'zod';

// Arguments and flags several commands take, declared once so they read the same everywhere.

/** `<pipeline>`: the model a command is about. */
export const pipelineArgument = {
  name: 'pipeline',
  noun: 'pipeline name',
  description: 'a pipeline: its file name in pipelines/, without .ts',
} as const;

/** `--json`: machine-readable output on stdout. */
export const jsonFlag = {
  type: 'boolean',
  description: 'print JSON (for scripts) instead of text',
} as const;

/**
 * `--by WHO`: who asks, kept in the run or the audit log.
 * @default the user running the command ($USER), else "cli"
 */
export function requestedByFlag(description: string) {
  return {
    type: 'string',
    schema: z.string().min(1),
    placeholder: 'WHO',
    default: process.env.USER ?? 'cli',
    shownDefault: '$USER',
    description,
  } as const;
}
