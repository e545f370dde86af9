import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError, TrainingBadInputError, TrainingContractError, TransientError, type ErrorContext } from '../../lib/errors';
import { keys } from '../../lib/keys';
import type { ModelVersion } from '../../lib/registry';
import { parsePredictions, PREDICT_CONTRACT, type ModelOutput } from '../../lib/training-contract';
import type { Store } from '../../store/store';
import { findMissingPart, runContractCommand, type ContractRun, type MissingPart } from './subprocess';

/** What a contract command reports while it runs; activities turn it into heartbeats. */
export interface CommandHooks {
  signal: AbortSignal;
  onProgress: (progress: Record<string, unknown>) => void;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  onTick?: () => void;
}

/** Hooks for use outside an activity: nothing to report to, nothing cancels. */
export const QUIET_HOOKS: CommandHooks = { signal: new AbortController().signal, onProgress: () => undefined, onOutput: () => undefined };

/** Copies a version's artefacts from the store into `modelDir`; returns artefact name → file inside it. */
export async function materialiseArtifacts(store: Store, model: ModelVersion, modelDir: string): Promise<Record<string, string>> {
  const prefix = keys.artifact(model.model, model.version, '');
  const files: Record<string, string> = {};
  for (const [name, key] of Object.entries(model.artifacts)) {
    files[name] = key.slice(prefix.length);
    await store.download(key, join(modelDir, files[name]));
  }
  return files;
}

/**
 * Writes the request file into `dir` and runs the command on it. First checks that the command's
 * program and script files exist: a missing one fails with `InvalidInput` (not retried), naming
 * the path and the pipeline field that gives the command.
 */
export async function runContract(opts: {
  command: string[];
  dir: string;
  request: object;
  timeoutMs: number;
  python: string;
  cwd: string;
  hooks: CommandHooks;
  /**
   * The pipeline field the command comes from, for error messages.
   * @default "training.command"
   */
  field?: string;
  /** Model, version and step, for error messages. */
  context?: ErrorContext;
  /** See `runContractCommand`; unset: no limit. */
  progressTimeoutMs?: number;
}): Promise<ContractRun> {
  const field = opts.field ?? 'training.command';
  const missing = await findMissingPart(opts.command, opts.python, opts.cwd);
  if (missing) throw new InvalidInputError(describeMissing(missing, field, opts.cwd, opts.context?.model), { ...opts.context, field });
  await mkdir(opts.dir, { recursive: true });
  const requestPath = join(opts.dir, 'request.json');
  await writeFile(requestPath, JSON.stringify(opts.request, null, 2));
  return runContractCommand({
    command: opts.command,
    requestPath,
    cwd: opts.cwd,
    python: opts.python,
    timeoutMs: opts.timeoutMs,
    ...(opts.progressTimeoutMs ? { progressTimeoutMs: opts.progressTimeoutMs } : {}),
    ...opts.hooks,
  });
}

/**
 * {@link runContract} for a command whose result is the lines it prints on stdout (one JSON line,
 * usually): returns the run and those lines. The runner hands a stdout line that parses as a JSON
 * object to onProgress and others to onOutput; both are collected here, stderr goes to the
 * caller's hooks.
 */
export async function runCollectingStdout(
  opts: Omit<Parameters<typeof runContract>[0], 'hooks'> & { hooks?: CommandHooks },
): Promise<{ run: ContractRun; stdout: string[] }> {
  const stdout: string[] = [];
  const hooks = opts.hooks ?? QUIET_HOOKS;
  const run = await runContract({
    ...opts,
    hooks: {
      signal: hooks.signal,
      ...(hooks.onTick ? { onTick: hooks.onTick } : {}),
      onProgress: (object) => stdout.push(JSON.stringify(object)),
      onOutput: (line, stream) => (stream === 'stdout' ? stdout.push(line) : hooks.onOutput(line, stream)),
    },
  });
  return { run, stdout };
}

/** "training.command of pipeline churn names a script that does not exist: /app/train.py (given as "train.py", …)" */
function describeMissing(missing: MissingPart, field: string, cwd: string, model: string | undefined): string {
  const of = model ? `${field} of pipeline ${model}` : field;
  const where =
    missing.given === missing.path
      ? ''
      : ` (given as "${missing.given}"${isRelative(missing.given) ? `, relative to the project directory ${cwd}` : ''})`;
  if (missing.what === 'program' && missing.problem === 'is not on PATH') return `${of}: its program "${missing.path}" is not on PATH`;
  return `${of} names a ${missing.what} that ${missing.problem}: ${missing.path}${where}`;
}

function isRelative(given: string): boolean {
  return !given.startsWith('/') && !given.startsWith('$');
}

/**
 * Runs a version's predict command (training/CONTRACT.md) on a CSV of rows whose artefacts are
 * already in `modelDir`, and returns its validated predictions in input order. Used by the
 * evaluation and verification activities and by serving code alike.
 */
export async function runPredict(opts: {
  command: string[];
  model: ModelVersion;
  modelDir: string;
  artifacts: Record<string, string>;
  inputPath: string;
  rows: number;
  purpose: 'evaluate' | 'verify' | 'serve';
  dir: string;
  timeoutMs: number;
  python: string;
  cwd: string;
  hooks: CommandHooks;
}): Promise<ModelOutput[]> {
  const ctx: ErrorContext = { model: opts.model.model, version: opts.model.version, step: opts.purpose };
  const outputPath = join(opts.dir, `${opts.model.version}-${opts.purpose}.jsonl`);
  const request = {
    contract: PREDICT_CONTRACT,
    task: opts.model.task,
    modelDir: opts.modelDir,
    artifacts: opts.artifacts,
    inputPath: opts.inputPath,
    outputPath,
    features: opts.model.lineage.features,
    purpose: opts.purpose,
  };
  const run = await runContract({
    command: opts.command,
    dir: join(opts.dir, `${opts.model.version}-${opts.purpose}`),
    request,
    timeoutMs: opts.timeoutMs,
    python: opts.python,
    cwd: opts.cwd,
    hooks: opts.hooks,
    field: 'training.predictCommand',
    context: ctx,
  });
  failOnExit(run, 'predict', ctx);
  const text = await readFile(outputPath, 'utf8').catch(() => {
    throw new TrainingContractError('predict exited 0 but wrote no output file', ctx);
  });
  return parsePredictions(text, opts.rows, opts.model.task, opts.model.classes, ctx);
}

/**
 * Turns a failed contract run into the right failure: exit 2 is bad input (not retried); a
 * crash, a timeout or a silence past the progress timeout may not happen again, so those are
 * `TransientError`s (retried while the retry policy allows: the step says which attempt it was).
 * A command we stopped did not finish, whatever its exit code.
 */
export function failOnExit(run: ContractRun, what: string, ctx: ErrorContext, limits: { progressTimeout?: string } = {}): void {
  const tail = run.stderrTail ? `\n${run.stderrTail}` : '';
  if (run.killedFor === 'timeout') throw new TransientError(`${what} timed out and was stopped${tail}`);
  if (run.killedFor === 'no_progress') {
    const silence = limits.progressTimeout ? `for ${limits.progressTimeout}` : 'for longer than its progress timeout';
    throw new TransientError(`${what} printed no progress line ${silence} (training.progressTimeout) and was stopped${tail}`);
  }
  if (run.exitCode === 0) return;
  if (run.exitCode === 2) {
    throw new TrainingBadInputError(`${what} rejected its input (exit 2)${tail}`, ctx);
  }
  const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
  throw new TransientError(`${what} ${how}${tail}`);
}
