import { Runtime } from '@temporalio/worker';

/**
 * Says what a shutdown signal does: the SDK's runtime already reacts to the first one (workers
 * stop polling, running activities get the grace, then are cancelled and handed back), but
 * silently. A second signal means "now": exit at once; a training subprocess then sees its stdin
 * close and exits, and Temporal retries the attempt after its heartbeat timeout. Returns a
 * function that stops listening, for when the workers have stopped.
 */
export function announceShutdown(opts: { graceSeconds: number; say: (line: string) => void }): () => void {
  const signals = Runtime.instance().options.shutdownSignals;
  let received: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      opts.say(
        `retrain worker: ${signal} again: exiting now; unfinished activities are retried by other workers after their heartbeat timeout.`,
      );
      process.exit(1);
    }
    received = signal;
    opts.say(
      `retrain worker: ${signal} received, shutting down: no new tasks; running activities get up to ${opts.graceSeconds}s ` +
        `(RETRAIN_SHUTDOWN_GRACE_SECONDS) to finish, then are cancelled and handed back to other workers. Send ${signal} again to exit at once.`,
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
