import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from '../lib/errors';

type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * Parses a subcommand's arguments strictly (unknown flags are errors) and validates them with
 * its zod schema, so a mistake names the flag and what was expected.
 */
export function parseCommandArgs<S extends z.ZodTypeAny>(command: string, argv: string[], flags: FlagSpec, schema: S): z.infer<S> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...flags, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InvalidInputError(`${command}: ${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}`, { step: 'cli' });
  }
  const input = { ...parsed.values, positionals: parsed.positionals };
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ ...i, path: i.path.map((p) => (p === 'positionals' ? 'arguments' : `--${String(p)}`)) }));
    throw new InvalidInputError(formatIssues(`the command line of \`retrain ${command}\``, issues), { step: 'cli' });
  }
  return result.data;
}

/** A pipeline name given as the one positional argument. */
export const onePipeline = z
  .array(z.string())
  .length(1, 'expected exactly one pipeline name')
  .transform((p) => p[0]);
