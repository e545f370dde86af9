import { z } from 'zod';
import { loadConfig } from '../../lib/config';
import type { Pipeline } from '../../lib/pipeline';
import { parseCommandArgs } from '../args';
import { connectClient, decideCandidate, startRetrain } from '../client';
import { describeRun } from '../format';
import { followRun } from '../follow';
import { listPipelines, loadPipeline } from '../load-pipeline';
import { startLocalStack } from '../local-stack';

export const usage = () => 'demo [pipeline...]';

/**
 * The whole lifecycle on the embedded default: dev server, worker, and a retraining run of each
 * example pipeline, printed as it goes. Run it twice: the second run finds the same data and
 * params already trained and says so instead of registering a new version.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('demo', argv, {}, z.object({ positionals: z.array(z.string()) }));
  const config = loadConfig();
  const say = (line: string) => process.stdout.write(line + '\n');
  const names = args.positionals.length ? args.positionals : listPipelines(config.projectDir);
  const pipelines: Pipeline[] = [];
  for (const name of names) pipelines.push(await loadPipeline(config.projectDir, name));

  say('Retrain demo: the retraining lifecycle of each example pipeline, on a local Temporal server.\n');
  const stack = await startLocalStack(config, say);
  let failures = 0;
  try {
    const client = await connectClient({ ...config, temporalAddress: stack.address });
    for (const pipeline of pipelines) {
      say(`\n=== ${pipeline.name} (${pipeline.task}; ${pipeline.source.path.replace(config.projectDir + '/', '')}) ===`);
      const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: 'demo' });
      say(joined ? `Joined the run already in progress: ${handle.workflowId}` : `Started workflow ${handle.workflowId}`);
      const { status, failed } = await followRun(handle, {
        print: say,
        onStep: async (s) => {
          if (s.step !== 'approval' || pipeline.approval.mode !== 'manual') return;
          const approver = pipeline.approval.approvers[0];
          say(`    this pipeline needs a person's approval; the demo approves as ${approver}`);
          say(`    (yourself: npx retrain approve ${pipeline.name} --by ${approver} --reason "…")`);
          await waitForApprovalStep(async () => decideCandidate(client, pipeline.name, 'approve', { by: approver, reason: 'approved in the demo', version: s.version ?? undefined }));
        },
      });
      say('');
      say(describeRun(status));
      if (failed && status.outcome !== 'rolled-back') say(`  error: ${failed.message}`);
      if (failed) failures++;
    }
    say(`\nWhere things are:`);
    say(`  artefacts, registry, snapshots: ${config.storeDir}`);
    say(`  audit log:                      ${config.storeDir}/audit/<model>/   (npx retrain audit <model>)`);
    say(`  worker log (JSON lines):        ${stack.workerLog}`);
    if (stack.uiUrl) say(`  Temporal UI (while running):    ${stack.uiUrl}`);
    say(`\nNext: run the demo again (same data: nothing new is trained), or keep things running with`);
    say(`  npx retrain dev        and in another terminal:   npx retrain versions churn`);
  } finally {
    await stack.stop();
  }
  return failures ? 1 : 0;
}

/** The status query can show the approval step a moment before the update handler accepts decisions. */
async function waitForApprovalStep(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
