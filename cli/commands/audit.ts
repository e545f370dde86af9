import { z } from 'zod';
import { listAudit } from '../../services/audit-log';
import { storeLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { output } from '../format';
import { loadPipeline } from '../../services/pipelines';

/** The append-only audit log of a model: every lifecycle event with version and outcome. */
export const auditCommand = defineCommand({
  name: 'audit',
  summary: 'the audit log of a model',
  details:
    'Every recorded event of the model, oldest first, each with its version and outcome.\nRead from the store: no Temporal server needed.',
  positionals: [pipelineArgument],
  flags: {
    json: jsonFlag,
    limit: {
      type: 'string',
      schema: z.coerce.number().int().positive(),
      default: 50,
      placeholder: 'N',
      description: 'show only the newest N events',
    },
  },
  examples: ['retrain audit churn', 'retrain audit churn --limit 200 --json'],
  async run(args) {
    const config = loadConfig();
    await loadPipeline(config.projectDir, args.pipeline); // unknown: "unknown pipeline … Available: …"
    const events = (await listAudit(createStore(config), args.pipeline)).slice(-args.limit);
    output(args.json, events, () =>
      events.length === 0
        ? `no audit events for ${args.pipeline} yet (store: ${storeLocation(config.store)})`
        : events
            .map((e) => `${e.at}  ${e.type.padEnd(12)} ${(e.version ?? '-').padEnd(13)} ${e.outcome.padEnd(8)} ${e.summary}`)
            .join('\n'),
    );
    return 0;
  },
});
