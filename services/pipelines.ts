import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from '../lib/errors';
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
  const module = await import(pathToFileURL(file).href);
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
  return { ...pipeline, source: { ...pipeline.source, path: abs(pipeline.source.path) }, holdout };
}
