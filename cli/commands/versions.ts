import { listVersions, readPointer } from '../../services/registry';
import { loadConfig } from '../../services/config';
import { createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { fmtMetric, output } from '../format';
import { loadPipeline } from '../../services/pipelines';

/** Registered versions of a model with lineage, the champion pointer and its history (read from the store). */
export const versionsCommand = defineCommand({
  name: 'versions',
  summary: 'registered versions, champion and history',
  details:
    'Each version with its data, params and first training metrics; the champion and the history\nof promotions and rollbacks. Read from the store: no Temporal server needed.',
  positionals: [pipelineArgument],
  flags: { json: jsonFlag },
  examples: ['retrain versions churn', 'retrain versions churn --json | jq .champion'],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const store = createStore(config);
    const versions = await listVersions(store, pipeline.name);
    const { pointer } = await readPointer(store, pipeline.name);
    output(args.json, { champion: pointer.champion, previous: pointer.previous, history: pointer.history, versions }, () => {
      if (versions.length === 0) return `${pipeline.name} has no versions yet. Train one: npx retrain run ${pipeline.name} --wait`;
      const lines = versions.map((v) => {
        const mark = v.version === pointer.champion ? '* champion' : v.version === pointer.previous ? '  previous' : '';
        const metric = Object.entries(v.trainMetrics)
          .slice(0, 2)
          .map(([k, x]) => `${k} ${fmtMetric(x)}`)
          .join(', ');
        return `${v.version}  ${v.createdAt}  data ${v.lineage.datasetSha256.slice(0, 12)}  params ${JSON.stringify(v.lineage.params)}  ${metric}  ${mark}`;
      });
      const history = pointer.history.map(
        (h) => `  ${h.at}  ${h.action.padEnd(8)} ${h.from ?? 'none'} → ${h.to ?? 'none'}  by ${h.actor}: ${h.reason}`,
      );
      return [
        `Versions of ${pipeline.name} (store: ${store.location}):`,
        ...lines,
        '',
        'Champion history:',
        ...history,
        '',
        `Next: npx retrain rollback ${pipeline.name} --reason "…" [--to <version>]`,
      ].join('\n');
    });
    return 0;
  },
});
