import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { parseCommandArgs } from '../args';
import { startLocalStack } from '../local-stack';

export const usage = () => 'dev';

/** Keeps a local dev server and a worker running until Ctrl-C, for working with the other commands. */
export async function run(argv: string[]): Promise<number> {
  parseCommandArgs('dev', argv, {}, z.object({ positionals: z.array(z.string()).max(0, 'dev takes no arguments') }));
  const say = (line: string) => process.stdout.write(line + '\n');
  const stack = await startLocalStack(loadConfig(), say);
  say(`\nReady. In another terminal:\n  npx retrain run churn --wait\n  npx retrain status churn\nCtrl-C stops the worker${stack.startedServer ? ' and the server' : ''}.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('Stopping…');
  await stack.stop();
  return 0;
}
