import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from '../lib/errors';
import { commandUsage, positionalLabel } from './command-help';
import type { CommandSpec, Flag, Flags, Positional } from './command-spec';

/** Where the positionals sit in the object the schema validates; a flag cannot have this name. */
const POSITIONALS = '<arguments>';

/**
 * Parses a command line strictly (an unknown flag is an error) and validates it with the
 * command's derived schema. A mistake throws an InvalidInputError (exit 2) that names the flag,
 * says what was expected, and repeats the usage line.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): Record<string, unknown> {
  const usage = `Usage: retrain ${commandUsage(spec)}   (more: retrain ${spec.name} --help)`;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: parseArgsOptions(spec.flags), allowPositionals: true, strict: true });
  } catch (err) {
    throw new InvalidInputError(`${spec.name}: ${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${usage}`, {
      step: 'cli',
    });
  }
  const result = commandSchema(spec).safeParse({ ...parsed.values, [POSITIONALS]: parsed.positionals });
  if (!result.success) {
    // Name the flag as typed (`--limit`), not the schema's path (`limit.0`).
    const issues = result.error.issues.map((i) => ({
      ...i,
      path: i.path.slice(0, 1).map((p) => (p === POSITIONALS ? 'arguments' : `--${String(p)}`)),
    }));
    throw new InvalidInputError(`${formatIssues(`the command line of \`retrain ${spec.name}\``, issues)}\n${usage}`, { step: 'cli' });
  }
  return result.data;
}

/** node:util parseArgs options: each flag by its type. `--help` is listed so that parsing never trips on it. */
export function parseArgsOptions(flags: Flags): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [name, { type: flag.type }]),
  );
  return { ...options, help: { type: 'boolean', short: 'h' } };
}

/**
 * The zod schema of a whole command line: each flag's schema with its default, the positionals
 * counted and named, then the command's rule across arguments. Its output is what `run` gets.
 */
export function commandSchema(spec: CommandSpec): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = { [POSITIONALS]: positionalsSchema(spec.positionals) };
  for (const [name, flag] of Object.entries(spec.flags)) shape[name] = flagSchema(flag);
  return z
    .object(shape)
    .transform(({ [POSITIONALS]: named, ...flags }) => ({ ...(named as Record<string, unknown>), ...flags }))
    .superRefine((args, ctx) => {
      const problem = spec.check?.(args);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [POSITIONALS] });
    });
}

function flagSchema(flag: Flag): z.ZodType {
  if (flag.type === 'boolean') return z.boolean().default(false);
  // prefault, not default: the default goes through the schema like a typed value (`'50'` → 50).
  return flag.default === undefined ? flag.schema : flag.schema.prefault(flag.default);
}

/** Checks the positionals' values and count, then names them: `['churn']` → `{ pipeline: 'churn' }`. */
function positionalsSchema(positionals: readonly Positional[]): z.ZodType {
  return z
    .array(z.string())
    .superRefine((given, ctx) => {
      const problem = positionalsProblem(positionals, given);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((given) => Object.fromEntries(positionals.map((p, i) => [p.name, p.variadic ? given.slice(i) : given[i]])));
}

function positionalsProblem(positionals: readonly Positional[], given: string[]): string | undefined {
  for (const [i, p] of positionals.entries()) {
    const values = p.variadic ? given.slice(i) : given.slice(i, i + 1);
    const wrong = p.choices ? values.find((v) => !Object.hasOwn(p.choices!, v)) : undefined;
    if (wrong !== undefined) return `<${p.name}> must be one of ${Object.keys(p.choices!).join(', ')}; got ${JSON.stringify(wrong)}`;
    for (const value of p.schema ? values : []) {
      const checked = p.schema!.safeParse(value);
      if (!checked.success) return `<${p.name}> ${JSON.stringify(value)} ${checked.error.issues[0]!.message}`;
    }
  }
  // One required value and none given: say what it is in words.
  const [only] = positionals;
  if (given.length === 0 && positionals.length === 1 && !only.optional && !only.variadic) {
    return `expected exactly one ${only.noun ?? positionalLabel(only)}`;
  }
  const missing = positionals.slice(given.length).filter((p) => !p.optional);
  if (missing.length) return `missing ${missing.map(positionalLabel).join(' ')}`;
  if (!positionals.at(-1)?.variadic && given.length > positionals.length) {
    const extra = given
      .slice(positionals.length)
      .map((a) => JSON.stringify(a))
      .join(' ');
    return positionals.length === 0
      ? `takes no arguments, got ${extra}`
      : `unexpected ${extra}: takes ${positionals.map(positionalLabel).join(' ')}`;
  }
  return undefined;
}
