import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { ErrorType, formatIssues } from '../lib/errors';

/**
 * A workflow can be started by anything (the CLI, a schedule, `temporal workflow start`), so it
 * validates its own input: bad input fails at once, without retries, naming each field.
 */
export function checkedInput<S extends z.ZodTypeAny>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(formatIssues(what, parsed.error.issues), ErrorType.INVALID_INPUT, { issues: parsed.error.issues });
}
