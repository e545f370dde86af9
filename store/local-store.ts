import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkKey, checkPrefix, type Store } from './store';

const LOCK_STALE_MS = 30_000;

/**
 * A store in a local directory. Writes go to a temporary file first and are renamed into
 * place (atomic on POSIX); create-once writes use link(2), which fails if the target exists;
 * compare-and-swap takes a short lock file so two processes cannot both win. Temporary and
 * lock files are named `.tmp-*` and `.lock-*`, names `checkKey` reserves, so they can never
 * collide with an object.
 */
export class LocalStore implements Store {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async localFile(key: string): Promise<string | null> {
    const path = this.path(key);
    return (await this.exists(key)) ? path : null;
  }

  async get(key: string): Promise<Buffer | null> {
    const path = this.path(key);
    try {
      return await readFile(path);
    } catch (err) {
      // A directory is only a prefix of other keys, not an object (as in S3).
      if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
  }

  async getWithTag(key: string): Promise<{ body: Buffer; tag: string } | null> {
    const body = await this.get(key);
    return body && { body, tag: tagOf(body) };
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.path(key);
    const tmp = await this.writeTemp(target, body);
    await rename(tmp, target);
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    const target = this.path(key);
    const tmp = await this.writeTemp(target, body);
    try {
      await link(tmp, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async putIfMatch(key: string, body: Buffer | string, tag: string | null): Promise<boolean> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // Not `${target}.lock`: that is a valid key of its own, which a lock would block and,
    // once it looked stale, delete.
    const release = await acquireLock(join(dirname(target), `.lock-${basename(target)}`));
    try {
      const current = await this.getWithTag(key);
      if ((current?.tag ?? null) !== tag) return false;
      await this.put(key, body);
      return true;
    } finally {
      await release();
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.path(key);
    try {
      // A directory is only a prefix of other keys, not an object.
      return (await stat(path)).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    // Walk from the prefix's last whole folder: a prefix is a string prefix, as in S3, so
    // "datasets/m/abc" matches "datasets/m/abc123.csv" and "reg" matches "registry/...".
    const folder = checkPrefix(prefix).slice(0, prefix.lastIndexOf('/') + 1);
    const start = join(this.root, ...folder.split('/').filter(Boolean));
    const keys: string[] = [];
    await walk(start, (file) => {
      const key = relative(this.root, file).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    });
    return keys.sort();
  }

  async upload(localPath: string, key: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempPath(target);
    await copyFile(localPath, tmp);
    await rename(tmp, target);
  }

  async download(key: string, localPath: string): Promise<void> {
    const source = this.path(key);
    await mkdir(dirname(localPath), { recursive: true });
    // Through a temporary file: a missing key or a failed copy must not leave an empty or
    // partial file at localPath that a later step would take for the artefact.
    const tmp = tempPath(localPath);
    try {
      await pipeline(createReadStream(source), createWriteStream(tmp));
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async writeTemp(target: string, body: Buffer | string): Promise<string> {
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempPath(target);
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  }
}

/** Version tag of a local object: the hash of its bytes. */
function tagOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

function tempPath(target: string): string {
  return join(dirname(target), `.tmp-${randomUUID()}`);
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function walk(dir: string, visit: (file: string) => void): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.name.startsWith('.tmp-') || entry.name.startsWith('.lock-')) continue;
    if (entry.isDirectory()) await walk(full, visit);
    else visit(full);
  }
}

/** An exclusive lock file; a lock older than LOCK_STALE_MS is from a dead process and is broken. */
async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await unlink(lockPath).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** Math.min(attempt, 6), 200)));
    }
  }
}
