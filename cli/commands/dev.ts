import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { startLocalStack } from '../local-stack';

/** Keeps a local dev server and a worker running until Ctrl-C, for working with the other commands. */
export const devCommand = defineCommand({
  name: 'dev',
  summary: 'keep a local dev server (persisted) and a worker running',
  details:
    'Starts a Temporal dev server (unless one already answers at RETRAIN_TEMPORAL_ADDRESS) and a worker\non both task queues, until Ctrl-C; the other commands then work against them.',
  examples: ['retrain dev'],
  async run() {
    const say = (line: string) => process.stdout.write(line + '\n');
    const stack = await startLocalStack(loadConfig(), say);
    say(
      `\nReady. In another terminal:\n  npx retrain run churn --wait\n  npx retrain status churn\nCtrl-C stops the worker${stack.startedServer ? ' and the server' : ''}.`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say('Stopping…');
    await stack.stop();
    return 0;
  },
});
