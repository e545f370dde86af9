import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { loadPipeline } from '../services/pipelines';
import { REPO } from './helpers/pipelines';

const exec = promisify(execFile);

/** A project with one pipeline file of the given source, and a package.json when `type` is given. */
function project(source: string, type?: 'module' | 'commonjs'): string {
  const dir = mkdtempSync(join(tmpdir(), 'retrain-load-'));
  mkdirSync(join(dir, 'pipelines'));
  if (type) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', private: true, type }));
  writeFileSync(join(dir, 'pipelines', 'churn.ts'), source);
  return dir;
}

const VALID = `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: 'churn',
  task: 'classification',
  source: { path: 'data.csv' },
  label: 'churned',
  features: [{ name: 'tenure_months', type: 'numeric' }],
  training: { command: ['python3', 'train.py'] },
  metrics: { primary: 'accuracy' },
  owners: { monitoring: 'm@x', retraining: 'r@x', inference: 'i@x', logging: 'l@x' },
});
`;

async function loadError(dir: string): Promise<InvalidInputError> {
  const err = await loadPipeline(dir, 'churn').then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as InvalidInputError;
}

describe('loadPipeline', () => {
  it('loads a pipeline of an ES module project and resolves its paths', async () => {
    const dir = project(VALID, 'module');
    expect((await loadPipeline(dir, 'churn')).source).toMatchObject({ path: join(dir, 'data.csv') });
  });

  it('says to add "type": "module" when the project is CommonJS, instead of a module-loader stack', async () => {
    // Only Node's own loader shows this (vitest loads modules its own way): the real CLI does.
    const dir = project(VALID, 'commonjs');
    const result = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'validate', 'churn'], {
      env: { ...process.env, RETRAIN_PROJECT_DIR: dir },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`pipelines/churn (${join(dir, 'pipelines', 'churn.ts')}) could not be loaded`);
    expect(result.stderr).toContain(`add "type": "module" to ${join(dir, 'package.json')} (or name the file churn.mts)`);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  it('names the file of a syntax error or a missing import, as bad input', async () => {
    expect((await loadError(project('export default {', 'module'))).message).toMatch(
      /pipelines\/churn .*could not be loaded: .*Fix the file/,
    );
    expect((await loadError(project("import x from './nope.ts';\nexport default x;\n", 'module'))).message).toMatch(
      /could not be loaded: .*nope\.ts/,
    );
  });
});
