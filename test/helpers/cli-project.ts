import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './harness';

const exec = promisify(execFile);

/** What the real `retrain` binary did: its exit code and its output. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `retrain` binary in a user's project against a harness's server, task queues,
 * store and work dir; a non-zero exit is a result, not an error.
 */
export async function runCli(h: Harness, project: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), ...args], {
      cwd: project,
      timeout: 60_000,
      env: {
        ...process.env,
        RETRAIN_TEMPORAL_ADDRESS: h.config.temporalAddress,
        RETRAIN_STORE: h.store.location,
        RETRAIN_WORK_DIR: h.config.workDir,
        RETRAIN_TASK_QUEUE: h.config.taskQueue,
        RETRAIN_TRAINING_TASK_QUEUE: h.config.trainingTaskQueue,
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A user's project in a temporary directory: an empty pipelines/ and a package.json of its own. */
export function makeUserProject(prefix: string): string {
  const project = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(project, 'pipelines'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-user-project', type: 'module', private: true }));
  return project;
}

/**
 * Writes `pipelines/<name>.ts` in a project: a small classification pipeline on the churn example
 * with the trivial trainer, which trains in a second. `extra` adds fields (e.g. an approval).
 */
export function writeTestPipeline(project: string, name: string, extra = ''): void {
  writeFileSync(
    join(project, 'pipelines', `${name}.ts`),
    `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: ${JSON.stringify(name)},
  task: 'classification',
  source: { path: ${JSON.stringify(join(REPO, 'examples/data/churn.csv'))} },
  label: 'churned',
  features: [{ name: 'tenure_months', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
  training: { command: ${JSON.stringify(TRIVIAL_TRAINER)}, predictCommand: ${JSON.stringify(TRIVIAL_PREDICT)} },
  metrics: { primary: 'accuracy' },
  owners: { monitoring: 'm@x', retraining: 'r@x', inference: 'i@x', logging: 'l@x' },
  ${extra}
});
`,
  );
}
