import type { z } from 'zod';

// The shapes of a command's arguments and flags, shared by the parser and the help.

/** A switch: present means true, absent false. */
export interface BooleanFlag {
  type: 'boolean';
  /** One line for the help (a `\n` starts an indented continuation line). */
  description: string;
}

/** A flag that takes a value; its schema validates (and may convert) the text given. */
export interface ValueFlag<S extends z.ZodType = z.ZodType> {
  type: 'string';
  /**
   * Validates the value. The flag is required unless the schema accepts `undefined`
   * (`.optional()`) or a default is given.
   */
  schema: S;
  /** One line for the help (a `\n` starts an indented continuation line). */
  description: string;
  /**
   * Stands for the value in the usage line and the help: `--by WHO`.
   * @default "VALUE"
   */
  placeholder?: string;
  /** Used when the flag is absent; it goes through the schema like a value given on the command line. */
  default?: z.input<S>;
  /** What the help shows as the default when the value itself would not say it (`$USER`, an environment variable). */
  shownDefault?: string;
}

/** Any flag a command declares: a switch or a flag with a value. */
export type Flag = BooleanFlag | ValueFlag;
/** A command's flags, keyed by name without the dashes (`limit` is `--limit`). */
export type Flags = Readonly<Record<string, Flag>>;

/** A positional argument, in the order given. */
export interface Positional {
  /** The key in the parsed arguments, and the name the usage shows: `<pipeline>`. */
  name: string;
  description: string;
  /** What one value is, in words, for errors: "expected exactly one pipeline name". @default `<name>` */
  noun?: string;
  /** May be left out (only the last positionals can be). */
  optional?: boolean;
  /** Takes every remaining argument (the last positional only); with `optional`, zero or more. */
  variadic?: boolean;
  /** The accepted values, each with what it does. */
  choices?: Readonly<Record<string, string>>;
  /**
   * Checks each value given; its message completes `<name> "value" …`, e.g. "is not a
   * pipeline name (…)".
   */
  schema?: z.ZodType<string>;
}

/** A declaration without its `run`, as the parser and the help read it. */
export interface CommandSpec {
  name: string;
  summary: string;
  details?: string;
  positionals: readonly Positional[];
  flags: Flags;
  check?: (args: Record<string, unknown>) => string | undefined;
  examples: readonly string[];
}

/** A value flag is required when it has no default and its schema refuses "absent". */
export function isRequired(flag: Flag): boolean {
  return flag.type === 'string' && flag.default === undefined && !flag.schema.safeParse(undefined).success;
}
