import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { parseCommandArgs } from '../args';
import { output } from '../format';
import { listPipelines, loadPipeline } from '../../services/pipelines';

export const usage = () => 'pipelines [--json]';

/** Lists the pipelines and validates each one, so a broken definition shows up before a run. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('pipelines', argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().default(false), positionals: z.array(z.string()).max(0) }));
  const config = loadConfig();
  const rows = await Promise.all(
    listPipelines(config.projectDir).map(async (name) => {
      try {
        const p = await loadPipeline(config.projectDir, name);
        return { name, ok: true, task: p.task, primaryMetric: p.metrics.primary, approval: p.approval.mode, owners: p.owners, error: null };
      } catch (err) {
        return { name, ok: false, error: (err as Error).message };
      }
    }),
  );
  output(args.json, rows, () =>
    rows.length === 0
      ? `no pipelines in ${config.projectDir}/pipelines — add one with definePipeline({...})`
      : rows.map((r) => (r.ok ? `${r.name.padEnd(20)} ${r.task} · primary ${r.primaryMetric} · approval ${r.approval} · retraining owner ${r.owners!.retraining}` : `${r.name.padEnd(20)} INVALID\n${r.error}`)).join('\n') +
        '\n\nNext: npx retrain run <pipeline> --wait',
  );
  return rows.every((r) => r.ok) ? 0 : 1;
}
