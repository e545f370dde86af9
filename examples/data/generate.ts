/**
 * CLI: writes a synthetic dataset for one of the example pipelines.
 *
 *   node --import tsx examples/data/generate.ts --dataset churn --rows 2000 --seed 7 \
 *     --out examples/data/churn.csv
 *
 * Exit codes: 0 written, 2 bad arguments (with usage on stderr), 1 the write failed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { isEntryPoint } from '../entry-point';
import { CHURN_COLUMNS, HOUSE_PRICE_COLUMNS, generateChurn, generateHousePrices, toCsv, toJsonLines } from './generators.js';

/** Usage text printed with `--help` and after an argument error. */
export const USAGE = `Usage: node --import tsx examples/data/generate.ts --dataset churn|house-prices --out PATH
         [--rows N] [--seed S] [--drift D] [--format csv|jsonl]

  --dataset  churn (classification) or house-prices (regression)
  --out      file to write; its directory is created if missing
  --rows     number of rows, a positive integer (default 2000)
  --seed     integer seed in [0, 4294967295] (default 7); same seed, same data
  --drift    drift strength in [0, 1] (default 0 = reference distribution)
  --format   csv or jsonl (default: from the --out extension, .csv or .jsonl/.ndjson)`;

const FLAGS = ['dataset', 'rows', 'seed', 'drift', 'format', 'out'] as const;
type Flag = (typeof FLAGS)[number];

/** Thrown for any argument problem; the CLI maps it to exit code 2. */
export class UsageError extends Error {}

// Numeric flags arrive as strings; reject blanks explicitly because Number('') is 0.
const numeric = (flag: string) =>
  z
    .string()
    .trim()
    .min(1, `--${flag} needs a value`)
    .transform(Number)
    .pipe(z.number({ error: `--${flag} must be a number` }));

const ArgsSchema = z.object({
  dataset: z.enum(['churn', 'house-prices'], {
    error: (issue) => (issue.input === undefined ? '--dataset is required' : '--dataset must be churn or house-prices'),
  }),
  rows: numeric('rows')
    .pipe(
      z
        .number()
        .int('--rows must be a positive integer')
        .positive('--rows must be a positive integer')
        .max(10_000_000, '--rows must be at most 10000000'),
    )
    .default(2000),
  seed: numeric('seed')
    .pipe(
      z
        .number()
        .int('--seed must be an integer')
        .min(0, '--seed must be between 0 and 4294967295')
        .max(0xffffffff, '--seed must be between 0 and 4294967295'),
    )
    .default(7),
  drift: numeric('drift').pipe(z.number().min(0, '--drift must be between 0 and 1').max(1, '--drift must be between 0 and 1')).default(0),
  format: z.enum(['csv', 'jsonl'], { error: '--format must be csv or jsonl' }).optional(),
  out: z.string({ error: '--out is required' }).min(1, '--out is required'),
});

/** Validated CLI options. */
export type GenerateArgs = Omit<z.output<typeof ArgsSchema>, 'format'> & { format: 'csv' | 'jsonl' };

/** Splits `--flag value` / `--flag=value` pairs; values are kept verbatim (so `-5` stays a value). */
function splitFlags(argv: readonly string[]): Partial<Record<Flag, string>> {
  const raw: Partial<Record<Flag, string>> = {};
  const rest = [...argv];
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new UsageError(`unexpected argument: ${arg}`);
    const name = match[1] as Flag;
    if (!FLAGS.includes(name)) throw new UsageError(`unknown flag: --${name}`);
    if (name in raw) throw new UsageError(`--${name} given more than once`);
    const value = match[2] ?? rest.shift();
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    raw[name] = value;
  }
  return raw;
}

function formatFromPath(out: string): 'csv' | 'jsonl' {
  const ext = path.extname(out).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new UsageError(`cannot infer --format from "${out}": use a .csv or .jsonl path, or pass --format`);
}

/**
 * Parses and validates CLI arguments (without the `node script` prefix).
 *
 * @throws {@link UsageError} with a message naming the offending flag.
 */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  const result = ArgsSchema.safeParse(splitFlags(argv));
  if (!result.success) {
    throw new UsageError(result.error.issues.map((issue) => issue.message).join('\nerror: '));
  }
  const args = result.data;
  return { ...args, format: args.format ?? formatFromPath(args.out) };
}

/** Builds the file contents for validated arguments. */
export function render(args: GenerateArgs): string {
  const options = { rows: args.rows, seed: args.seed, drift: args.drift };
  if (args.dataset === 'churn') {
    const rows = generateChurn(options);
    return args.format === 'csv' ? toCsv(rows, CHURN_COLUMNS) : toJsonLines(rows);
  }
  const rows = generateHousePrices(options);
  return args.format === 'csv' ? toCsv(rows, HOUSE_PRICE_COLUMNS) : toJsonLines(rows);
}

/** Writes via a temp file in the same directory then renames, so readers never see half a file. */
async function writeAtomic(file: string, contents: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, contents);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    await writeAtomic(args.out, render(args));
  } catch (error) {
    console.error(`error: could not write ${args.out}: ${(error as Error).message}`);
    return 1;
  }
  console.log(`wrote ${args.rows} ${args.dataset} rows (seed ${args.seed}, drift ${args.drift}, ${args.format}) to ${args.out}`);
  return 0;
}

// Run only when executed directly, so tests can import the parser without side effects.
if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
