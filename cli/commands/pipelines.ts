import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { output } from '../format';
import { listPipelines, loadPipeline } from '../../services/pipelines';

/** Lists the pipelines and validates each one, so a broken definition shows up before a run. */
export const pipelinesCommand = defineCommand({
  name: 'pipelines',
  summary: 'list and validate the pipelines in pipelines/',
  details: 'Loads every pipelines/*.ts of the project and validates it; exits 1 when any is invalid,\nprinting what is wrong with it.',
  flags: { json: jsonFlag },
  examples: ['retrain pipelines'],
  async run(args) {
    const config = loadConfig();
    const rows = await Promise.all(
      listPipelines(config.projectDir).map(async (name) => {
        try {
          const p = await loadPipeline(config.projectDir, name);
          return {
            name,
            ok: true,
            task: p.task,
            primaryMetric: p.metrics.primary,
            approval: p.approval.mode,
            owners: p.owners,
            error: null,
          };
        } catch (err) {
          return { name, ok: false, error: (err as Error).message };
        }
      }),
    );
    output(args.json, rows, () =>
      rows.length === 0
        ? `no pipelines in ${config.projectDir}/pipelines — add one with definePipeline({...})`
        : rows
            .map((r) =>
              r.ok
                ? `${r.name.padEnd(20)} ${r.task} · primary ${r.primaryMetric} · approval ${r.approval} · retraining owner ${r.owners!.retraining}`
                : `${r.name.padEnd(20)} INVALID\n${r.error}`,
            )
            .join('\n') + '\n\nNext: npx retrain run <pipeline> --wait',
    );
    return rows.every((r) => r.ok) ? 0 : 1;
  },
});
