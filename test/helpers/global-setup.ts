import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../cli/dev-server';
import { WORKFLOWS_PATH } from '../../workers/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/** Starts one real Temporal dev server (in memory) and bundles the workflows once for all files. */
export default async function setup(project: TestProject) {
  const server = await startDevServer({ uiPort: null });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const bundlePath = join(mkdtempSync(join(tmpdir(), 'retrain-bundle-')), 'workflows.js');
  writeFileSync(bundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => server.stop();
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
