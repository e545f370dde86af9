import { mkdir, readdir, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, sep } from 'node:path';

/**
 * A file in every scratch folder of a running attempt, saying whose it is. Its modification time
 * is refreshed while the attempt runs, so a worker starting next to live ones can tell the
 * folders of attempts that died with their worker (stale marker) from live ones (fresh marker),
 * whichever machine they run on when several share a work directory.
 */
export const SCRATCH_MARKER = '.retrain-attempt';
/** How often a running attempt refreshes its marker. */
const MARKER_REFRESH_MS = 10 * 60_000;
/** Scratch folders of attempts killed with their worker are removed at the next worker start once this old. */
export const STALE_SCRATCH_MS = 24 * 3_600_000;

/** Scratch folders handed out by `scratchPath`, with the work directory each lives under. */
const workDirs = new Map<string, string>();

/**
 * The scratch folder of one attempt, `<workDir>/<model>/<version>/<name>`. When `inScratchDir`
 * is done with it, it also removes the model and version folders above it once they are empty.
 */
export function scratchPath(workDir: string, model: string, version: string, name: string): string {
  const dir = join(workDir, model, version, name);
  workDirs.set(dir, workDir);
  return dir;
}

/**
 * Runs `body` in a fresh scratch directory and removes it afterwards, failed or not: a worker
 * that keeps retrying must not fill its disk with copies of training data (errors already
 * carry the command's stderr tail). Folders above it that this leaves empty go too, up to the
 * work directory (for a folder from `scratchPath`).
 */
export async function inScratchDir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const workDir = workDirs.get(dir);
  let refresh: NodeJS.Timeout | undefined;
  try {
    await mkdir(dir, { recursive: true });
    const marker = join(dir, SCRATCH_MARKER);
    await writeFile(marker, `${JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString() })}\n`);
    refresh = setInterval(() => {
      const now = new Date();
      utimes(marker, now, now).catch(() => undefined);
    }, MARKER_REFRESH_MS);
    refresh.unref();
    return await body();
  } finally {
    clearInterval(refresh);
    workDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    if (workDir) await removeEmptyParents(dir, workDir);
  }
}

/**
 * Removes the folders between `dir` and `workDir` (not included) that are empty, nearest first.
 * rmdir refuses a folder that is not empty, so a folder another attempt is using stays; one that
 * another attempt is about to fill is made again by its recursive mkdir.
 */
async function removeEmptyParents(dir: string, workDir: string): Promise<void> {
  for (let parent = dirname(dir); parent.startsWith(workDir + sep); parent = dirname(parent)) {
    const removed = await rmdir(parent).then(
      () => true,
      () => false,
    );
    if (!removed) return;
  }
}

/** Attempt folder names written before folders carried a marker: `<purpose>-<run id>-<activity id>-<attempt>`. */
const UNMARKED_ATTEMPT = /^(train|evaluate|verify)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|standalone)-.+-\d+$/;

/**
 * Removes attempt folders (`<workDir>/<model>/<version>/<attempt>`) left by attempts that ended
 * with their worker (killed, out of memory, machine restarted), and the model and version
 * folders they leave empty. A folder goes when its marker has not been refreshed for `olderThanMs`
 * (a running attempt refreshes it every 10 minutes, on whatever machine it runs); an attempt
 * folder without a marker (an older Retrain) when the folder itself is that old. Anything else in
 * the work directory is left alone. Returns the attempt folders removed.
 */
export async function removeStaleScratch(workDir: string, opts: { olderThanMs?: number; now?: number } = {}): Promise<string[]> {
  const olderThan = opts.olderThanMs ?? STALE_SCRATCH_MS;
  const now = opts.now ?? Date.now();
  const removed: string[] = [];
  const isOld = async (path: string) => now - (await stat(path)).mtimeMs >= olderThan;
  for (const model of await subfolders(workDir)) {
    let removedUnderModel = false;
    for (const version of await subfolders(model)) {
      let removedUnderVersion = false;
      for (const attempt of await subfolders(version)) {
        const marker = join(attempt, SCRATCH_MARKER);
        const hasMarker = await stat(marker).then(
          () => true,
          () => false,
        );
        if (!hasMarker && !UNMARKED_ATTEMPT.test(attempt.slice(version.length + 1))) continue;
        if (!(await isOld(hasMarker ? marker : attempt).catch(() => false))) continue;
        await rm(attempt, { recursive: true, force: true });
        removed.push(attempt);
        removedUnderVersion = true;
      }
      // An empty folder is removed when it is ours to remove (we just emptied it) or old: a new
      // empty one may be about to receive an attempt.
      if ((removedUnderVersion || (await isOld(version).catch(() => false))) && (await removeIfEmpty(version))) removedUnderModel = true;
    }
    if (removedUnderModel || (await isOld(model).catch(() => false))) await removeIfEmpty(model);
  }
  return removed;
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

async function removeIfEmpty(dir: string): Promise<boolean> {
  return rmdir(dir).then(
    () => true,
    () => false,
  );
}
