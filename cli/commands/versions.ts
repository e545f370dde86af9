import { z } from 'zod';
import { listVersions, readPointer } from '../../services/registry';
import { loadConfig } from '../../services/config';
import { createStore } from '../../store/index';
import { onePipeline, parseCommandArgs } from '../args';
import { fmtMetric, output } from '../format';
import { loadPipeline } from '../../services/pipelines';

export const usage = () => 'versions <pipeline> [--json]';

/** Registered versions of a model with lineage, the champion pointer and its history (read from the store). */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('versions', argv, { json: { type: 'boolean' } }, z.object({ positionals: onePipeline, json: z.boolean().default(false) }));
  const config = loadConfig();
  const pipeline = await loadPipeline(config.projectDir, args.positionals);
  const store = createStore(config);
  const versions = await listVersions(store, pipeline.name);
  const { pointer } = await readPointer(store, pipeline.name);
  output(args.json, { champion: pointer.champion, previous: pointer.previous, history: pointer.history, versions }, () => {
    if (versions.length === 0) return `${pipeline.name} has no versions yet. Train one: npx retrain run ${pipeline.name} --wait`;
    const lines = versions.map((v) => {
      const mark = v.version === pointer.champion ? '* champion' : v.version === pointer.previous ? '  previous' : '';
      const metric = Object.entries(v.trainMetrics).slice(0, 2).map(([k, x]) => `${k} ${fmtMetric(x)}`).join(', ');
      return `${v.version}  ${v.createdAt}  data ${v.lineage.datasetSha256.slice(0, 12)}  params ${JSON.stringify(v.lineage.params)}  ${metric}  ${mark}`;
    });
    const history = pointer.history.map((h) => `  ${h.at}  ${h.action.padEnd(8)} ${h.from ?? 'none'} → ${h.to ?? 'none'}  by ${h.actor}: ${h.reason}`);
    return [`Versions of ${pipeline.name} (store: ${store.location}):`, ...lines, '', 'Champion history:', ...history, '', `Next: npx retrain rollback ${pipeline.name} --reason "…" [--to <version>]`].join('\n');
  });
  return 0;
}
