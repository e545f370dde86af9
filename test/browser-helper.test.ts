import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, type Browser } from './helpers/browser';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const OFFSITE_IMAGE = 'https://example.invalid/x.png';

describe('the browser test helper', () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  const served: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      served.push(req.url!);
      if (req.url === '/style.css') {
        res.writeHead(200, { 'content-type': 'text/css' }).end('h1 { color: rgb(0, 128, 0); }');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><link rel="stylesheet" href="/style.css"><h1>Retrain</h1><img src="${OFFSITE_IMAGE}" alt="">`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads a local page, screenshots it, and blocks and records an off-site request', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => browser.offsiteRequests).toContain(OFFSITE_IMAGE);
    expect(await page.locator('h1').textContent()).toBe('Retrain');
    // The local stylesheet went through: requests to 127.0.0.1 are not blocked. (Strings: the
    // project's TypeScript has no DOM types.)
    expect(await page.evaluate("getComputedStyle(document.querySelector('h1')).color")).toBe('rgb(0, 128, 0)');
    expect(served).toEqual(expect.arrayContaining(['/', '/style.css']));
    expect(await page.evaluate("document.querySelector('img').complete && document.querySelector('img').naturalWidth")).toBe(0);
    expect(browser.offsiteRequests).toEqual([OFFSITE_IMAGE]);

    const path = await screenshot(page, 'browser-helper');
    expect(path.endsWith('test-output/console/browser-helper.png')).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('setContent works, and a fetch to another host is blocked too', async () => {
    const page = await browser.newPage();
    await page.setContent('<h1>x</h1>');
    expect(await page.locator('h1').textContent()).toBe('x');
    const error = await page.evaluate(() =>
      fetch('https://cdn.example.invalid/lib.js').then(
        () => null,
        (e: Error) => e.name,
      ),
    );
    expect(error).toBe('TypeError');
    expect(browser.offsiteRequests).toContain('https://cdn.example.invalid/lib.js');
  });

  it('throws with a way out when RETRAIN_CHROMIUM names nothing', async () => {
    const saved = process.env.RETRAIN_CHROMIUM;
    process.env.RETRAIN_CHROMIUM = '/nonexistent/chromium';
    try {
      await expect(launchBrowser()).rejects.toThrow(/RETRAIN_CHROMIUM=\/nonexistent\/chromium does not exist/);
    } finally {
      if (saved === undefined) delete process.env.RETRAIN_CHROMIUM;
      else process.env.RETRAIN_CHROMIUM = saved;
    }
  });
});
