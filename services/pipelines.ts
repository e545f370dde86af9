import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorType, InvalidInputError, RetrainError } from '../lib/errors';
import { parsePipeline, type Pipeline } from '../lib/pipeline';

/** Names of the pipelines defined in `<projectDir>/pipelines/*.ts`. */
export function listPipelines(projectDir: string): string[] {
  const dir = join(projectDir, 'pipelines');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.startsWith('_') && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|mts|js|mjs)$/, ''))
    .sort();
}

/**
 * Loads `pipelines/<name>.ts`, validates its default export and resolves its local paths
 * against the project directory, so the workflow input is complete on its own.
 */
export async function loadPipeline(projectDir: string, name: string): Promise<Pipeline> {
  const available = listPipelines(projectDir);
  const file = ['ts', 'mts', 'js', 'mjs'].map((ext) => join(projectDir, 'pipelines', `${name}.${ext}`)).find((f) => existsSync(f));
  if (!file) {
    throw new InvalidInputError(
      `unknown pipeline "${name}": no pipelines/${name}.ts in ${projectDir}` +
        (available.length ? `. Available: ${available.join(', ')}` : '. There are no pipelines yet.'),
      { step: 'load-pipeline' },
    );
  }
  const module = await importPipelineFile(file, name, projectDir);
  const pipeline = parsePipeline(module.default, `pipelines/${name} (${file})`);
  if (pipeline.name !== name) {
    throw new InvalidInputError(
      `pipelines/${name}: its name is "${pipeline.name}"; the file must be called pipelines/${pipeline.name}.ts`,
      { step: 'load-pipeline' },
    );
  }
  return resolvePaths(pipeline, projectDir);
}

function resolvePaths(pipeline: Pipeline, projectDir: string): Pipeline {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(projectDir, p));
  const holdout =
    'source' in pipeline.holdout ? { source: { ...pipeline.holdout.source, path: abs(pipeline.holdout.source.path) } } : pipeline.holdout;
  return {
    ...pipeline,
    source: pipeline.source.kind === 'postgres' ? pipeline.source : { ...pipeline.source, path: abs(pipeline.source.path) },
    holdout,
  };
}

/** Node's codes for an ES module loaded as CommonJS: a project whose package.json is not `"type": "module"`. */
const MODULE_KIND_ERRORS = new Set(['ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

/**
 * Imports a pipeline file. Whatever stops it from loading (a syntax error, a missing import, a
 * project that is not an ES module project) is the file's problem, so it is bad input naming the
 * file and the fix, never a stack trace or a step retried ten times.
 */
async function importPipelineFile(file: string, name: string, projectDir: string): Promise<{ default?: unknown }> {
  try {
    return await import(pathToFileURL(file).href);
  } catch (err) {
    // definePipeline's own errors already name the file and every field (by name too: a project
    // may import another copy of retrain/pipeline than this process runs).
    if (err instanceof RetrainError) throw err;
    if (err instanceof Error && err.name === ErrorType.INVALID_INPUT) throw new InvalidInputError(err.message, { step: 'load-pipeline' });
    const code = (err as NodeJS.ErrnoException).code;
    const first = String((err as Error).message ?? err)
      .split('\n')[0]
      .replace(/\.$/, '');
    const fix =
      code && MODULE_KIND_ERRORS.has(code)
        ? ` Pipelines are ES modules: add "type": "module" to ${join(projectDir, 'package.json')} (or name the file ${name}.mts), then restart running workers (Node keeps a module that failed to load).`
        : ' Fix the file (a running worker keeps a module that failed to load: restart it afterwards).';
    throw new InvalidInputError(`pipelines/${name} (${file}) could not be loaded: ${first}.${fix}`, { step: 'load-pipeline' });
  }
}
