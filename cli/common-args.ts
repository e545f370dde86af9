import { z } from 'zod';
import { PIPELINE_NAME } from '../lib/pipeline';

// Arguments and flags several commands take, declared once so they read the same everywhere.

/**
 * `<pipeline>`: the model a command is about. Checked before anything else, so that text which
 * cannot be a pipeline never reaches a message or a suggested command.
 */
export const pipelineArgument = {
  name: 'pipeline',
  noun: 'pipeline name',
  description: 'a pipeline: its file name in pipelines/, without .ts',
  schema: z
    .string()
    .regex(PIPELINE_NAME, 'is not a pipeline name (lowercase letters, digits and dashes, starting with a letter, at most 63 characters)'),
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
