import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RetrainConfig } from '../lib/config';
import {
  CONTRIBUTIONS_CONTRACT,
  contributionsRequestSchema,
  parseContributions,
  type Contributions,
  type ContributionsRequest,
} from '../lib/contributions';
import { formatIssues, InvalidInputError, type ErrorContext } from '../lib/errors';
import { keys } from '../lib/keys';
import type { PredictionLine } from '../lib/prediction-log';
import { parseReferenceProfile } from '../lib/reference-profile';
import type { ModelVersion } from '../lib/registry';
import type { Store } from '../store/store';
import { failOnExit, materialiseArtifacts, QUIET_HOOKS, runCollectingStdout, type CommandHooks } from './runner/contract';
import { inScratchDir, scratchPath } from './runner/scratch';

/** The command that computes contributions; the runner appends the request path. */
export const CONTRIBUTIONS_COMMAND: readonly string[] = ['$PYTHON', '$RETRAIN_HOME/training/explain.py'];
/** A few rows take about a second; this only stops a hung command. */
const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** What to explain and how. */
export interface ExplainContributionsInput {
  store: Store;
  config: Pick<RetrainConfig, 'python' | 'projectDir' | 'workDir'>;
  /** The version that made the predictions (`readVersion`); its task, classes and features are used. */
  model: ModelVersion;
  /** The logged feature values of each prediction (`PredictionLine.features`); other keys are ignored. */
  rows: readonly PredictionLine['features'][];
  /**
   * The class whose output is explained (classification).
   * @default the second of two classes; with more, each row's predicted class
   */
  positiveClass?: string;
  /** Cancellation, liveness ticks and stderr lines. @default QUIET_HOOKS */
  hooks?: CommandHooks;
  /**
   * Milliseconds before the command is stopped (its whole process group).
   * @default 300_000 (5 minutes)
   */
  timeoutMs?: number;
}

/**
 * Which features pushed each prediction: copies the version's artefacts into a scratch directory
 * under `config.workDir`, runs training/explain.py with the project's Python through the command
 * launcher, and returns its validated result (removing the scratch directory either way). The
 * version's training category counts (its `features` reference profile) are passed when stored,
 * so a linear model's base is its mean output on the training data.
 * @throws InvalidInputError for a row that lacks one of the model's features or a positiveClass
 *   the model does not have; TrainingBadInputError when the script rejects its input (exit 2,
 *   message included); TrainingContractError for a malformed result; TransientError for a crash
 *   or timeout; the signal's reason when `hooks.signal` cancels it.
 */
export async function explainContributions(input: ExplainContributionsInput): Promise<Contributions> {
  const { store, config, model } = input;
  const ctx: ErrorContext = { model: model.model, version: model.version, step: 'explain' };
  const features = model.lineage.features;
  const rows = input.rows.map((row, n) => modelFeatures(row, { n, of: input.rows.length }, features, ctx));
  const hooks = input.hooks ?? QUIET_HOOKS;
  const dir = scratchPath(config.workDir, model.model, model.version, `explain-${randomUUID()}`);
  return inScratchDir(dir, async () => {
    const modelDir = join(dir, 'model');
    const parsed = contributionsRequestSchema.safeParse({
      contract: CONTRIBUTIONS_CONTRACT,
      task: model.task,
      modelDir,
      artifacts: await materialiseArtifacts(store, model, modelDir),
      features,
      classes: model.classes,
      ...(input.positiveClass === undefined ? {} : { positiveClass: input.positiveClass }),
      rows,
      categoryCounts: await categoryCounts(store, model),
    });
    if (!parsed.success)
      throw new InvalidInputError(formatIssues(`the explain request for ${model.model} ${model.version}`, parsed.error.issues), ctx);

    // The result is the one line on stdout.
    const { run, stdout } = await runCollectingStdout({
      command: [...CONTRIBUTIONS_COMMAND],
      dir,
      request: parsed.data,
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      python: config.python,
      cwd: config.projectDir,
      hooks,
      field: 'the explain command',
      context: ctx,
    });
    if (run.killedFor === 'cancelled') hooks.signal.throwIfAborted();
    failOnExit(run, 'explain', ctx);
    return parseContributions(stdout, rows.length, ctx);
  });
}

/** A row's values of the model's features, or an error naming the first one it lacks. */
function modelFeatures(
  row: PredictionLine['features'],
  at: { n: number; of: number },
  features: ModelVersion['lineage']['features'],
  ctx: ErrorContext,
): PredictionLine['features'] {
  const picked: PredictionLine['features'] = {};
  for (const { name } of features) {
    if (!Object.hasOwn(row, name)) {
      const which = at.of === 1 ? 'the prediction' : `prediction ${at.n + 1} of ${at.of}`;
      throw new InvalidInputError(
        `${which} to explain lacks feature '${name}', which model ${ctx.model} ${ctx.version} uses (log null for a missing value)`,
        { ...ctx, feature: name },
      );
    }
    picked[name] = row[name];
  }
  return picked;
}

/** Category counts of the version's training split, from its reference profile; none when it has no profile. */
async function categoryCounts(store: Store, model: ModelVersion): Promise<ContributionsRequest['categoryCounts']> {
  const body = await store.get(keys.referenceProfile(model.model, model.version, 'features'));
  if (!body) return {};
  const counts: NonNullable<ContributionsRequest['categoryCounts']> = {};
  for (const [name, column] of Object.entries(parseReferenceProfile(body.toString()).columns)) {
    if (column.kind === 'categorical') counts[name] = { counts: column.counts, missing: column.missing };
  }
  return counts;
}
