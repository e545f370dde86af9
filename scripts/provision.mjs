// Finds or installs what Retrain needs outside npm: the Temporal CLI (dev server), MinIO (the
// S3-compatible server the S3 store is tested against), the Python venv for training and a
// separate one with the Temporal Python SDK (for the tests), and Chromium (the console's browser
// tests drive Debian's `chromium` with playwright-core, which never downloads a browser; set-up
// installs the Debian package with apt-get when it may, and never downloads one any other way).
// Plain Node.js with built-ins only, so it runs before `npm install`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const STATE_DIR = join(ROOT, '.retrain');
/** Pinned: this version's Go module has no replace directives, so `go install` builds it. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const TEMPORAL_CLI_VERSION = '1.5.1';
/**
 * Pinned by pseudo-version (MinIO publishes no semver tags Go accepts); this commit's module
 * builds with plain `go install`.
 */
export const MINIO_MODULE = 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c';

const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

function fileHash(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs a step only when its input changed since it last succeeded (a hash in a marker file). */
function once(marker, inputHash, action) {
  const markerPath = join(STATE_DIR, 'markers', marker);
  if (existsSync(markerPath) && readFileSync(markerPath, 'utf8') === inputHash) return false;
  action();
  mkdirSync(dirname(markerPath), { recursive: true });
  writeFileSync(markerPath, inputHash);
  return true;
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (result.error) throw new Error(`could not run ${cmd}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

/**
 * A tool binary: the path in `envVar` (which must exist), else `name` on PATH (one the user
 * installed wins over ours), else the one built into .retrain/bin; null if none.
 */
function findTool(envVar, name) {
  const given = process.env[envVar];
  if (given) {
    if (!existsSync(given)) throw new Error(`${envVar}=${given} does not exist`);
    return given;
  }
  const installed = onPath(name);
  if (installed) return installed;
  const local = join(STATE_DIR, 'bin', name);
  return existsSync(local) ? local : null;
}

/** The Temporal CLI to start a dev server with, or null to let the SDK download one. */
export function findTemporalCli() {
  return findTool('TEMPORAL_CLI_PATH', 'temporal');
}

/** The MinIO server binary: MINIO_PATH, `minio` on PATH, or the one built into .retrain/bin; null if none. */
export function findMinio() {
  return findTool('MINIO_PATH', 'minio');
}

/** Python to run training with: RETRAIN_PYTHON, or the project venv. */
export function findPython() {
  return process.env.RETRAIN_PYTHON ?? join(STATE_DIR, 'venv', 'bin', 'python');
}

/** Python with the Temporal Python SDK (test/requirements-sdk.txt), for the tests. */
export function findSdkPython() {
  return join(STATE_DIR, 'venv-sdk', 'bin', 'python');
}

export function ensureNodeModules() {
  const lock = join(ROOT, 'package-lock.json');
  const hash = existsSync(lock) ? fileHash(lock) : 'no-lock';
  const missing = !existsSync(join(ROOT, 'node_modules', '@temporalio', 'worker'));
  if (missing) rmMarker('node-modules');
  once('node-modules', hash, () => {
    say('installing npm dependencies (npm ci)…');
    run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT });
  });
}

function rmMarker(name) {
  const path = join(STATE_DIR, 'markers', name);
  if (existsSync(path)) writeFileSync(path, '');
}

/** Finds the Temporal CLI or builds it with Go into .retrain/bin; null lets the SDK download one. */
export function ensureTemporalCli() {
  return (
    findTemporalCli() ??
    buildWithGo({
      label: `the Temporal CLI ${TEMPORAL_CLI_VERSION}`,
      module: TEMPORAL_CLI_MODULE,
      binary: 'temporal',
      withoutGo: [
        'no Temporal CLI and no Go toolchain: the SDK will download the dev server on first use (needs internet).',
        'To use your own: set TEMPORAL_CLI_PATH=/path/to/temporal.',
      ],
    })
  );
}

/**
 * Finds MinIO or builds it with Go into .retrain/bin. Only the S3 store tests need it, so
 * set-up goes on without it (those tests then fail, saying what is missing).
 */
export function ensureMinio() {
  return (
    findMinio() ??
    buildWithGo({
      label: 'MinIO',
      module: MINIO_MODULE,
      binary: 'minio',
      withoutGo: [
        'no MinIO and no Go toolchain: the S3 store tests will fail.',
        'To use your own: set MINIO_PATH=/path/to/minio, or put minio on PATH.',
      ],
    })
  );
}

/** `go install` of a pinned module into .retrain/bin, with progress; null (and a hint) without Go. */
function buildWithGo({ label, module, binary, withoutGo }) {
  const go = onPath('go');
  if (!go) {
    for (const line of withoutGo) say(line);
    return null;
  }
  const bin = join(STATE_DIR, 'bin');
  mkdirSync(bin, { recursive: true });
  say(`building ${label} with Go into .retrain/bin (first time only; takes a few minutes)…`);
  const started = Date.now();
  run(go, ['install', module], { env: { ...process.env, GOBIN: bin, CGO_ENABLED: '0' } });
  say(`${label} built in ${Math.round((Date.now() - started) / 1000)}s: ${join(bin, binary)}`);
  return join(bin, binary);
}

export function ensurePythonEnv() {
  if (process.env.RETRAIN_PYTHON) return process.env.RETRAIN_PYTHON;
  const requirements = join(ROOT, 'training', 'requirements.txt');
  const venv = join(STATE_DIR, 'venv');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) rmMarker('python-venv');
  once('python-venv', fileHash(requirements), () => {
    const system = onPath('python3') ?? onPath('python');
    if (!system) throw new Error('Python 3 is needed for training: install python3 (3.11 or newer) or set RETRAIN_PYTHON');
    if (!existsSync(python)) {
      say(`creating the Python venv in .retrain/venv (${execFileSync(system, ['--version']).toString().trim()})…`);
      run(system, ['-m', 'venv', venv]);
    }
    say('installing training/requirements.txt into the venv (scikit-learn, numpy, scipy, pandas)…');
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  });
  return python;
}

/**
 * The Temporal Python SDK in its own venv, .retrain/venv-sdk, so the training venv holds only
 * what training needs. Tests use it as a client nobody here wrote.
 */
export function ensurePythonSdk() {
  const requirements = join(ROOT, 'test', 'requirements-sdk.txt');
  const venv = join(STATE_DIR, 'venv-sdk');
  const python = findSdkPython();
  if (!existsSync(python)) rmMarker('python-sdk-venv');
  once('python-sdk-venv', fileHash(requirements), () => {
    const system = process.env.RETRAIN_PYTHON ?? onPath('python3') ?? onPath('python');
    if (!system) throw new Error('Python 3 is needed for the Temporal Python SDK tests: install python3 (3.10 or newer)');
    if (!existsSync(python)) {
      say(`creating the venv for the Temporal Python SDK in .retrain/venv-sdk (${execFileSync(system, ['--version']).toString().trim()})…`);
      run(system, ['-m', 'venv', venv]);
    }
    say('installing test/requirements-sdk.txt into .retrain/venv-sdk (temporalio)…');
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  });
  return python;
}

/** Where Debian's `chromium` package puts its launcher. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** How to get Chromium when set-up could not install it. */
const CHROMIUM_HINT = 'install it with `apt-get install chromium` (as root), or set RETRAIN_CHROMIUM=/path/to/chromium';

/**
 * The Chromium the console's browser tests drive: RETRAIN_CHROMIUM (which must exist), else
 * `chromium` or `chromium-browser` on PATH, else Debian's /usr/bin/chromium; null if none.
 */
export function findChromium() {
  const given = process.env.RETRAIN_CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new Error(`RETRAIN_CHROMIUM=${given} does not exist: point it to a Chromium binary, or unset it`);
    return given;
  }
  return onPath('chromium') ?? onPath('chromium-browser') ?? (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : null);
}

/**
 * Finds Chromium, or installs Debian's `chromium` package with apt-get when this process is root
 * or has password-less sudo (after an `apt-get update` if the first try fails). Only the
 * console's browser tests need it, so set-up goes on without it (those tests then fail, saying
 * what is missing) with one line on how to get it. Never downloads a browser any other way.
 */
export function ensureChromium() {
  let found;
  try {
    found = findChromium();
  } catch (err) {
    // A RETRAIN_CHROMIUM that names nothing: installing a package would not change what it names.
    say(`${err.message}; the console's browser tests will fail.`);
    return null;
  }
  if (found) return found;
  const aptGet = onPath('apt-get');
  const asRoot = process.getuid?.() === 0;
  const withSudo =
    !asRoot && aptGet !== null && onPath('sudo') !== null && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!aptGet || !(asRoot || withSudo)) {
    say(`no Chromium, which the console's browser tests need: ${CHROMIUM_HINT}.`);
    return null;
  }
  const apt = (...args) =>
    withSudo
      ? run('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', aptGet, ...args])
      : run(aptGet, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const install = () => apt('install', '-y', '--no-install-recommends', 'chromium');
  say(`installing Debian's chromium package with apt-get${withSudo ? ' (sudo)' : ''}, for the console's browser tests…`);
  try {
    try {
      install();
    } catch {
      say('apt-get install failed; running apt-get update and trying once more…');
      apt('update');
      install();
    }
  } catch (err) {
    say(`could not install chromium (${err.message}); the console's browser tests need it: ${CHROMIUM_HINT}.`);
    return null;
  }
  const installed = findChromium();
  say(
    installed
      ? `Chromium installed: ${installed}`
      : `apt-get installed chromium but no chromium binary was found; the console's browser tests need it: ${CHROMIUM_HINT}.`,
  );
  return installed;
}
