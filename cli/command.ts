/**
 * A subcommand is declared once, with {@link defineCommand}: its arguments, flags, summary and
 * examples. The parser options, the zod schema, the usage line and the `--help` text are all
 * derived from that declaration, so what the help shows is what the parser accepts.
 */
import type { z } from 'zod';
import { commandHelp, commandUsage } from './command-help';
import { parseCommandLine } from './command-parse';
import type { BooleanFlag, CommandSpec, Flags, Positional, ValueFlag } from './command-spec';

export type { BooleanFlag, Flag, Flags, Positional, ValueFlag } from './command-spec';

type PositionalBase<D> = D extends { choices: infer C } ? keyof C & string : string;
type PositionalValue<D> = D extends { variadic: true }
  ? PositionalBase<D>[]
  : D extends { optional: true }
    ? PositionalBase<D> | undefined
    : PositionalBase<D>;
type FlagValue<D> = D extends { type: 'boolean' }
  ? boolean
  : D extends { schema: infer S extends z.ZodType }
    ? D extends { default: unknown }
      ? Exclude<z.output<S>, undefined>
      : z.output<S>
    : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The parsed arguments a command's `run` receives: one key per positional and per flag. */
export type Args<P extends readonly Positional[], F extends Flags> = Simplify<
  { [D in P[number] as D['name']]: PositionalValue<D> } & { -readonly [K in keyof F]: FlagValue<F[K]> }
>;

/** Keys of D that T does not have, made impossible: a misspelt `placehodler` does not compile. */
type NoExtraKeys<D, T> = { [X in Exclude<keyof D, keyof T>]: never };
/** Each value flag checked against its own schema (a default of the wrong type does not compile), and for stray keys. */
type CheckedFlags<F> = {
  [K in keyof F]: F[K] extends { type: 'string'; schema: infer S extends z.ZodType }
    ? ValueFlag<S> & NoExtraKeys<F[K], ValueFlag<S>>
    : BooleanFlag & NoExtraKeys<F[K], BooleanFlag>;
};
type CheckedPositionals<P> = { [I in keyof P]: P[I] & NoExtraKeys<P[I], Positional> };

/** What {@link defineCommand} takes: a subcommand's arguments, flags, help text and `run`. */
export interface CommandDeclaration<P extends readonly Positional[], F extends Flags> {
  /** What follows `retrain` on the command line. */
  name: string;
  /** One line, lower case, no full stop: `retrain help` lists it beside the usage. */
  summary: string;
  /** Paragraphs the full help adds after the summary: rules, caveats. */
  details?: string;
  positionals?: P & CheckedPositionals<P>;
  flags?: F & CheckedFlags<F>;
  /**
   * A rule across arguments that the per-argument schemas cannot express; returns what is
   * wrong, or undefined when the arguments are fine.
   */
  check?: (args: Args<P, F>) => string | undefined;
  /** Whole command lines, `retrain …`, shown under "Examples". */
  examples?: readonly string[];
  /** Does the work; returns the exit code. */
  run(args: Args<P, F>): Promise<number>;
}

/** What a declaration turns into: everything `retrain` needs to list, explain, parse and run a command. */
export interface Command<A = unknown> {
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly Positional[];
  readonly flags: Flags;
  /** The one-line usage without `retrain `: `audit <pipeline> [--limit N] [--json]`. */
  usage(): string;
  /** The full `--help` text: usage, summary, details, each argument and flag with its default, examples. */
  help(): string;
  /** Parses and validates a command line; bad input throws an InvalidInputError naming the flag. */
  parse(argv: readonly string[]): A;
  /** Answers `--help`/`-h`, or parses the command line and runs the command. Returns the exit code. */
  main(argv: readonly string[]): Promise<number>;
}

/** Declares a subcommand once; see {@link CommandDeclaration}. */
export function defineCommand<const P extends readonly Positional[] = [], F extends Flags = Record<never, never>>(
  declaration: CommandDeclaration<P, F>,
): Command<Args<P, F>> {
  const spec: CommandSpec = {
    name: declaration.name,
    summary: declaration.summary,
    details: declaration.details,
    positionals: declaration.positionals ?? [],
    flags: declaration.flags ?? {},
    check: declaration.check as CommandSpec['check'],
    examples: declaration.examples ?? [],
  };
  assertWellFormed(spec);
  const parse = (argv: readonly string[]) => parseCommandLine(spec, argv) as Args<P, F>;
  return {
    name: spec.name,
    summary: spec.summary,
    positionals: spec.positionals,
    flags: spec.flags,
    usage: () => commandUsage(spec),
    help: () => commandHelp(spec),
    parse,
    async main(argv) {
      if (asksForHelp(argv)) {
        process.stdout.write(commandHelp(spec));
        return 0;
      }
      return declaration.run(parse(argv));
    },
  };
}

/** `--help` or `-h` anywhere before a `--` (after it, they are plain arguments). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Mistakes in a declaration that the types do not catch, found when the module loads: a name
 * used twice (positionals, flags and `help` share one namespace in the parsed arguments), a
 * required positional after an optional one, a variadic one that is not last.
 */
function assertWellFormed(spec: CommandSpec): void {
  const fail = (why: string) => {
    throw new Error(`retrain ${spec.name}: ${why}`);
  };
  const names = [...spec.positionals.map((p) => p.name), ...Object.keys(spec.flags), 'help'];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) fail(`"${twice}" is declared twice (positionals, flags and "help" share one namespace)`);
  spec.positionals.forEach((p, i) => {
    if (p.variadic && i !== spec.positionals.length - 1) fail(`only the last positional can be variadic, not "${p.name}"`);
    if (!p.optional && spec.positionals.slice(0, i).some((q) => q.optional))
      fail(`the required positional "${p.name}" follows an optional one`);
  });
}
