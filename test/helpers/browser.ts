// A real browser for the console's tests: Debian's Chromium (found by scripts/provision.mjs,
// installed by `node scripts/setup.mjs`) driven by playwright-core, which never downloads one.
// The context reaches only this machine: any other request is aborted and recorded, so a test
// can show the console works offline (no CDN, no fonts or scripts from elsewhere).
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { findChromium, ROOT } from '../../scripts/provision.mjs';

/** Where screenshot() writes (ignored by git, Prettier and ESLint). */
export const SCREENSHOT_DIR = join(ROOT, 'test-output', 'console');

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  /** A persistent context in a fresh user-data directory (removed by close()). */
  context: BrowserContext;
  newPage(): Promise<Page>;
  /** Every URL the pages tried to reach off this machine, in order; each was aborted. */
  offsiteRequests: string[];
  /** Closes the browser and removes its user-data directory. */
  close(): Promise<void>;
}

const isLocal = (url: URL) => LOCAL_HOSTS.has(url.hostname);

/**
 * Launches headless Chromium with a fresh profile. Throws, saying how to get one, when no
 * Chromium is found: the browser tests must fail loudly, not skip.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "no Chromium for the console browser tests: run `node scripts/setup.mjs` as root (it installs Debian's chromium with apt-get), " +
        'or `apt-get install chromium`, or set RETRAIN_CHROMIUM=/path/to/chromium',
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'retrain-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: ARGS });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(`could not launch ${executablePath}: ${(err as Error).message}`, { cause: err });
  }
  const offsiteRequests: string[] = [];
  // Only off-site URLs are routed, so local requests go through untouched (no interception cost).
  await context.route(
    (url) => !isLocal(url),
    (route) => {
      offsiteRequests.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  await context.routeWebSocket(
    (url) => !isLocal(url),
    (ws) => {
      offsiteRequests.push(ws.url());
      return ws.close();
    },
  );
  return {
    context,
    offsiteRequests,
    newPage: () => context.newPage(),
    close: async () => {
      try {
        await context.close();
      } finally {
        await rm(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Saves a full-page PNG of `page` as test-output/console/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true, type: 'png' });
  return path;
}
