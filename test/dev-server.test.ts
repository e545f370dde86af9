import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, isServing, readDevServerState, startDevServer } from '../cli/dev-server';
import { reuseServer } from '../cli/local-stack';

describe('the dev server `retrain dev` starts', () => {
  it('is recorded with its pid and owner; a later `retrain dev` leaves it to a live owner, and takes it over from a crashed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrain-dev-server-'));
    const stateFile = join(dir, 'dev-server.json');
    const server = await startDevServer({ uiPort: null, stateFile });
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      const state = readDevServerState(stateFile)!;
      expect(state).toMatchObject({ ownerPid: process.pid, address: server.address, uiUrl: null });
      expect(isAlive(state.pid)).toBe(true);

      // A server no `retrain dev` recorded is someone else's: used, and left running.
      expect(reuseServer(join(dir, 'none.json'), server.address)).toEqual({
        message: `Using the Temporal server already running at ${server.address} (not started by \`retrain dev\`; it keeps running when this stops).`,
        adopted: null,
      });

      // Its owner still runs: used and left to it (localhost and 127.0.0.1 are the same address).
      writeFileSync(stateFile, JSON.stringify({ ...state, ownerPid: owner.pid }));
      const inUse = reuseServer(stateFile, server.address.replace('127.0.0.1', 'localhost'));
      expect(inUse.adopted).toBeNull();
      expect(inUse.message).toBe(
        `Using the Temporal dev server at ${server.address.replace('127.0.0.1', 'localhost')} of the \`retrain dev\` running as pid ${owner.pid} (server pid ${state.pid}); it keeps running when this stops.`,
      );

      // The owner crashes: the next one says so, takes the server over and stops it when it stops.
      owner.kill('SIGKILL');
      await once(owner, 'exit');
      const orphaned = reuseServer(stateFile, server.address);
      expect(orphaned.message).toMatch(
        new RegExp(
          `^Reusing the Temporal dev server at ${server.address} that an earlier \`retrain dev\` \\(pid ${owner.pid}, gone\\) left running \\(server pid ${state.pid}, since .*\\); it is stopped when this stops\\.$`,
        ),
      );
      expect(readDevServerState(stateFile)?.ownerPid).toBe(process.pid);
      await orphaned.adopted!.stop();
      expect(isAlive(state.pid)).toBe(false);
      expect(await isServing(server.address)).toBe(false);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      owner.kill('SIGKILL');
      await server.stop();
    }
  });
});
