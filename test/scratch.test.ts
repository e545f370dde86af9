import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inScratchDir, removeStaleScratch, SCRATCH_MARKER, scratchPath } from '../services/runner/scratch';
import { startHarness } from './helpers/harness';

const DAY = 24 * 3_600_000;
const RUN_ID = '0b5c3f5e-4a7d-4c1e-9f1e-2d3c4b5a6f70';

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'retrain-scratch-'));
}

/** Makes a folder (and its parents) with a file in it, its marker (or none) dated `ageMs` ago. */
function attemptFolder(dir: string, ageMs: number, marker = true): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.csv'), 'a,b\n1,2\n');
  const when = new Date(Date.now() - ageMs);
  if (marker) {
    writeFileSync(join(dir, SCRATCH_MARKER), '{}\n');
    utimesSync(join(dir, SCRATCH_MARKER), when, when);
  }
  utimesSync(dir, when, when);
  return dir;
}

describe('inScratchDir', () => {
  it('removes the attempt folder and the model and version folders it leaves empty, not the work directory', async () => {
    const root = workDir();
    const dir = scratchPath(root, 'churn', 'v-abc', `train-${RUN_ID}-5-1`);
    const marker = await inScratchDir(dir, async () => {
      writeFileSync(join(dir, 'train.csv'), 'x\n');
      return JSON.parse(readFileSync(join(dir, SCRATCH_MARKER), 'utf8')) as { pid: number };
    });
    expect(marker.pid).toBe(process.pid);
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(root)).toBe(true);
  });

  it('does so after a failed attempt too, and keeps a folder another attempt still uses', async () => {
    const root = workDir();
    const mine = scratchPath(root, 'churn', 'v-abc', `train-${RUN_ID}-5-1`);
    const other = scratchPath(root, 'churn', 'v-abc', `evaluate-${RUN_ID}-7-1`);
    let release!: () => void;
    const otherRuns = inScratchDir(other, () => new Promise<void>((resolve) => (release = resolve)));
    await expect(
      inScratchDir(mine, async () => {
        throw new Error('training exited with code 1');
      }),
    ).rejects.toThrow('exited with code 1');
    expect(readdirSync(join(root, 'churn', 'v-abc'))).toEqual([`evaluate-${RUN_ID}-7-1`]);
    release();
    await otherRuns;
    expect(readdirSync(root)).toEqual([]);
  });

  it('leaves the parents of a folder it was not handed by scratchPath', async () => {
    const root = workDir();
    const dir = join(root, 'a', 'b');
    await inScratchDir(dir, async () => undefined);
    expect(readdirSync(root)).toEqual(['a']);
  });
});

describe('removeStaleScratch', () => {
  it('removes attempt folders whose marker went stale, keeps live ones and what is not an attempt folder', async () => {
    const root = workDir();
    const stale = attemptFolder(join(root, 'churn', 'v-1', `train-${RUN_ID}-5-1`), 2 * DAY);
    const live = attemptFolder(join(root, 'churn', 'v-2', `train-${RUN_ID}-5-2`), 2 * DAY);
    utimesSync(join(live, SCRATCH_MARKER), new Date(), new Date()); // a running attempt refreshed it
    const unmarkedOld = attemptFolder(join(root, 'prices', 'v-9', `verify-${RUN_ID}-12-3`), 2 * DAY, false);
    const unmarkedNew = attemptFolder(join(root, 'prices', 'v-9', `evaluate-${RUN_ID}-11-1`), 60_000, false);
    // A serving app's folder, old, with folders inside that do not look like attempts.
    const serving = attemptFolder(join(root, 'serve-churn-x1', 'v-1', 'artifacts'), 2 * DAY, false);

    const removed = await removeStaleScratch(root);

    expect(removed.sort()).toEqual([stale, unmarkedOld].sort());
    expect(existsSync(join(root, 'churn', 'v-1'))).toBe(false); // emptied: gone with its attempt
    expect(existsSync(live)).toBe(true);
    expect(existsSync(unmarkedNew)).toBe(true);
    expect(existsSync(serving)).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['churn', 'prices', 'serve-churn-x1']);
  });

  it('removes empty model and version folders left by earlier attempts once they are old', async () => {
    const root = workDir();
    const old = new Date(Date.now() - 2 * DAY);
    mkdirSync(join(root, 'churn', 'v-1'), { recursive: true });
    utimesSync(join(root, 'churn', 'v-1'), old, old);
    utimesSync(join(root, 'churn'), old, old);
    mkdirSync(join(root, 'fresh', 'v-2'), { recursive: true }); // may be about to receive an attempt
    expect(await removeStaleScratch(root)).toEqual([]);
    expect(readdirSync(root)).toEqual(['fresh']);
    expect(readdirSync(join(root, 'fresh'))).toEqual(['v-2']);
  });

  it('does nothing when the work directory does not exist yet', async () => {
    expect(await removeStaleScratch(join(workDir(), 'nothing-here'))).toEqual([]);
  });
});

describe('a worker starting', () => {
  it('removes the scratch folders of attempts that died with an earlier worker', async () => {
    const h = await startHarness({ runWorkers: false });
    try {
      const stale = attemptFolder(join(h.config.workDir, 'churn', 'v-1', `train-${RUN_ID}-5-1`), 2 * DAY);
      const live = attemptFolder(join(h.config.workDir, 'churn', 'v-1', `train-${RUN_ID}-6-1`), 0);
      await h.startWorkers();
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      await h.close();
    }
  });
});
