import { z } from 'zod';
import { listAudit } from '../../services/audit-log';
import { storeLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { createStore } from '../../store/index';
import { onePipeline, parseCommandArgs } from '../args';
import { output } from '../format';

export const usage = () => 'audit <pipeline> [--json] [--limit N]';

const schema = z.object({
  positionals: onePipeline,
  json: z.boolean().default(false),
  limit: z.coerce.number().int().positive().default(50),
});

/** The append-only audit log of a model: every lifecycle event with version and outcome. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('audit', argv, { json: { type: 'boolean' }, limit: { type: 'string' } }, schema);
  const config = loadConfig();
  const events = (await listAudit(createStore(config), args.positionals)).slice(-args.limit);
  output(args.json, events, () =>
    events.length === 0
      ? `no audit events for ${args.positionals} yet (store: ${storeLocation(config.store)})`
      : events.map((e) => `${e.at}  ${e.type.padEnd(12)} ${(e.version ?? '-').padEnd(13)} ${e.outcome.padEnd(8)} ${e.summary}`).join('\n'),
  );
  return 0;
}
