import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../console/routes';
import { startApi, type RunningApi } from '../api/server';
import { decideCandidate, retrainWorkflowId, startRetrain } from '../client/client';
import { hashToken, type TokensFile } from '../lib/api-tokens';
import { driftScheduleId } from '../lib/workflow-ids';
import { readPointer } from '../services/registry';
import { createPredictionLogger } from '../serving/prediction-logger';
import type { RetrainSummary } from '../shared/inputs';
import { launchBrowser, screenshot, type Browser } from './helpers/browser';
import { makeUserProject } from './helpers/cli-project';
import { REPO, startHarness, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { waitForStep } from './helpers/runs';

/*
 * The console in a real browser (Debian's Chromium through playwright-core), on a store written
 * by real runs: two retrains of a model that needs approval (the first approved through the
 * client, the second from the console's button), one of a model that promotes by itself, and
 * drift checks over logged predictions. Each page is opened, used with the keyboard where it
 * matters, and saved as a screenshot under test-output/console/.
 */

const GATED = 'console-churn';
const AUTO = 'console-prices';
const TOKENS = { alice: 'alice-console-token-0123456789', mallory: 'mallory-console-token-0123456789' };
const tokens: TokensFile = {
  tokens: [
    { name: 'alice@example.com', sha256: hashToken(TOKENS.alice), scopes: ['read', 'retrain', `approve:${GATED}`] },
    { name: 'mallory@example.com', sha256: hashToken(TOKENS.mallory), scopes: ['read', 'approve:*'] },
  ],
};

let h: Harness;
let api: RunningApi;
let browser: Browser;
let project: string;
let firstVersion: string;
let waiting: { version: string; result: Promise<RetrainSummary> };
const problems: string[] = [];

/** A pipeline on the churn example's rows in the project (so a second run can see new rows). */
function writePipeline(name: string, extra: string): void {
  writeFileSync(
    join(project, 'pipelines', `${name}.ts`),
    `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: ${JSON.stringify(name)},
  task: 'classification',
  source: { path: ${JSON.stringify(join(project, `${name}.csv`))} },
  label: 'churned',
  features: [{ name: 'tenure_months', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
  training: { command: ${JSON.stringify(TRIVIAL_TRAINER)}, predictCommand: ${JSON.stringify(TRIVIAL_PREDICT)} },
  metrics: { primary: 'accuracy' },
  gates: [{ metric: 'accuracy', maxRegression: 1 }],
  drift: { window: '1h', minPredictions: 30, onDrift: 'alert' },
  owners: { monitoring: 'ml-platform@example.com', retraining: 'growth-ml@example.com', inference: 'api-team@example.com', logging: 'data-eng@example.com' },
  ${extra}
});
`,
  );
}

/** The churn example's rows, all of them or without the last `drop` (new data: a new version). */
function writeRows(name: string, drop = 0): void {
  const lines = readFileSync(join(REPO, 'examples/data/churn.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(project, `${name}.csv`), lines.slice(0, lines.length - drop).join('\n') + '\n');
}

/** Logs predictions as a serving app would: ids `<model>-<i>`, half of them on the plan that later drifts. */
async function logPredictions(model: string, version: string, n: number, shift: number): Promise<void> {
  const logger = createPredictionLogger({ store: h.store, model, version });
  for (let i = 0; i < n; i++)
    logger.logPrediction({
      id: `${model}-${shift}-${i}`,
      timestamp: new Date(Date.now() - 60_000),
      features: { tenure_months: (i % 48) + shift * 30, plan: i % 3 === 0 ? 'basic' : shift ? 'enterprise' : 'pro' },
      prediction: i % 4 === 0 ? 'yes' : 'no',
      latencyMs: 4 + (i % 7),
      cost: 0.0003,
      action: i % 4 === 0 ? 'offered a discount' : 'none',
    });
  await logger.close();
}

async function driftCheck(model: string): Promise<void> {
  await h.client.workflow.execute('driftCheck', {
    taskQueue: h.config.taskQueue,
    workflowId: `${driftScheduleId(model)}-console-${Date.now()}`,
    args: [{ model, trigger: 'test' }],
  });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${api.url}/ui`);
  expect(page.url()).toContain('/ui/sign-in?next=%2Fui');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${api.url}/ui`);
}

/** Labels, headings, titles: what a screen reader needs on every page. */
async function checkAccessible(page: Page): Promise<void> {
  const found = (await page.evaluate(`(() => {
    const out = [];
    if (document.querySelectorAll('h1').length !== 1) out.push('h1 count ' + document.querySelectorAll('h1').length);
    if (!document.documentElement.lang) out.push('no lang');
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute('aria-label')) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
    }
    for (const svg of document.querySelectorAll('svg[role=img]')) {
      const ids = (svg.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
      if (!ids.length || ids.some((id) => !document.getElementById(id))) out.push('chart without a title ' + svg.id);
      if (!svg.closest('figure') || !svg.closest('figure').querySelector('details table')) out.push('chart without its numbers ' + svg.id);
    }
    for (const img of document.querySelectorAll('img')) if (!img.alt) out.push('img without alt');
    // WCAG AA contrast of every visible text: 4.5:1, or 3:1 for large text.
    const rgb = (c) => (c.match(/[0-9.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    for (const el of document.querySelectorAll('body *:not(svg *):not(script):not(style)')) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || !el.getClientRects().length || el.closest('.visually-hidden, .skip')) continue;
      const style = getComputedStyle(el);
      const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < needed) out.push('contrast ' + ratio.toFixed(2) + ' < ' + needed + ': ' + el.tagName + ' ' + el.textContent.trim().slice(0, 40));
    }
    return out;
  })()`)) as string[];
  expect(found).toEqual([]);
}

beforeAll(async () => {
  project = makeUserProject('retrain-console-');
  writeRows(GATED);
  writeRows(AUTO);
  writePipeline(GATED, "approval: { mode: 'manual', approvers: ['alice@example.com'], timeout: '1h' },");
  writePipeline(AUTO, '');
  h = await startHarness({ projectDir: project });
  api = await startApi(
    { ...h.config, temporalUiUrl: 'http://127.0.0.1:8233' },
    { tokens, address: '127.0.0.1:0', logLevel: 'warn', extensions: [consoleRoutes] },
  );

  // The model that promotes by itself: one run, predictions, a check.
  const auto = await startRetrain(h.client, h.config, { model: AUTO }, { requestedBy: 'nightly job', reason: 'new labels' });
  const autoVersion = (await auto.handle.result()).version!;
  await logPredictions(AUTO, autoVersion, 200, 0);
  await driftCheck(AUTO);

  // The gated model: a first run approved through the client, predictions, two checks (the second drifted).
  const first = await startRetrain(h.client, h.config, { model: GATED }, { requestedBy: 'rails-app', reason: 'first model' });
  firstVersion = (await waitForStep(first.handle, 'approval')).version!;
  await decideCandidate(h.client, GATED, 'approve', { by: 'alice@example.com', reason: 'first model, looks sane' });
  expect((await first.handle.result()).outcome).toBe('promoted');
  await logPredictions(GATED, firstVersion, 300, 0);
  await driftCheck(GATED);
  await logPredictions(GATED, firstVersion, 300, 1);
  await driftCheck(GATED);

  // A second run on newer rows waits for a decision: the console will give it.
  writeRows(GATED, 40);
  const second = await startRetrain(h.client, h.config, { model: GATED }, { requestedBy: 'rails-app', reason: 'new labels' });
  const status = await waitForStep(second.handle, 'approval');
  expect(status.version).not.toBe(firstVersion);
  waiting = { version: status.version!, result: second.handle.result() };

  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await h?.close();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  // A blocked style or a script error would show here: the console must not produce either.
  page.on('console', (m) => {
    // The 401, 404 and 409 answers the tests ask for are reported too; anything else is a problem.
    if (m.type() === 'error' && !/the server responded with a status of (401|404|409)/.test(m.text()))
      problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  return page;
}

describe('the console in Chromium', () => {
  it('signs in with an API token and lists the models, the one waiting for approval first', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/ui`);
    await expect.poll(() => page.url()).toContain('/ui/sign-in');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not one of this server’s tokens');

    await page.getByLabel('API token').fill(TOKENS.alice);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${api.url}/ui`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'retrain_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });
    expect(cookie.value).not.toContain(TOKENS.alice);

    await expect.poll(() => page.locator('h1').textContent()).toBe('Models');
    const rows = page.locator('table.models tbody tr');
    expect(await rows.count()).toBe(2);
    const first = rows.nth(0);
    expect(await first.locator('th a').textContent()).toBe(GATED);
    expect(await first.textContent()).toContain('a candidate waits for approval');
    expect(await first.textContent()).toContain('waiting for approval');
    expect(await first.textContent()).toContain(firstVersion);
    expect(await rows.nth(1).textContent()).toContain(AUTO);
    expect(await rows.nth(1).textContent()).toContain('promoted');
    // The cost of the champion per 1,000 predictions: 0.0003 a prediction.
    expect(await first.textContent()).toContain('0.3');
    await checkAccessible(page);
    await screenshot(page, 'models');
    await page.close();
  });

  it('shows a model: its run, metric per version, drift over time, cost, which version served when, and the audit log', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.alice);
    await page.goto(`${api.url}/ui/models/${GATED}`);

    expect(await page.locator('#run ~ p').first().textContent()).toContain('waiting for approval');
    expect(await page.locator('ol.steps li.current').textContent()).toContain('approval');
    expect(await page.getByRole('link', { name: 'this run in the Temporal UI' }).getAttribute('href')).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/${retrainWorkflowId(GATED)}/${(await h.client.workflow.getHandle(retrainWorkflowId(GATED)).describe()).runId}/history`,
    );
    // Charts come with their numbers: the metric chart's table lists both versions.
    const metricTable = page.locator('#metric-per-version details table');
    expect(await metricTable.textContent()).toContain(firstVersion);
    expect(await metricTable.textContent()).toContain(waiting.version);
    expect(await page.locator('#metric-per-version svg.chart-svg').getAttribute('role')).toBe('img');
    expect(await page.locator('#drift-share details table tbody tr').count()).toBe(2);
    expect(await page.locator('#feature-strip').textContent()).toContain('plan');
    expect(await page.locator('#cost details table').textContent()).toContain('0.3');
    await checkAccessible(page);
    await screenshot(page, 'model');
    // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('content');

    // A drift report opens from the checks table.
    await page.getByRole('link', { name: 'report' }).first().click();
    await page.waitForURL(/\/reports\//);
    expect(await page.content()).toMatch(/Drift detected|No drift/);
    await page.goBack();

    // Which version served at a time: now, the first version; before it existed, none.
    const at = page.getByLabel('Time (UTC)');
    await at.fill(new Date(Date.now() + 60_000).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Which version?' }).click();
    expect(await page.locator('section[aria-labelledby=serving-at] .notice').textContent()).toContain(firstVersion);
    await page.getByLabel('Time (UTC)').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Which version?' }).click();
    expect(await page.locator('section[aria-labelledby=serving-at] .notice').textContent()).toContain('no version');

    // The audit log filtered to approvals: alice's, with its reason.
    await page.getByLabel('Event').selectOption('approval');
    await page.getByRole('button', { name: 'Filter' }).click();
    const auditRows = page.locator('section[aria-labelledby=audit] tbody tr');
    expect(await auditRows.count()).toBe(1);
    expect(await auditRows.first().textContent()).toContain('alice@example.com');

    // The readiness checklist, as `retrain readiness` answers it.
    await page.getByRole('link', { name: 'Production readiness checklist' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`${GATED}: production readiness`);
    expect(await page.locator('tbody tr').count()).toBe(7);
    // No drift schedule is applied in this test, so the alerting answer is no, with the command to fix it.
    expect(await page.locator('tbody').textContent()).toContain('retrain schedules apply');
    await checkAccessible(page);
    await screenshot(page, 'readiness');
    await page.close();
  });

  it('shows a version as a printable model card', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.alice);
    await page.goto(`${api.url}/ui/models/${GATED}`);
    await page.locator('dl.facts').getByRole('link', { name: firstVersion }).click();
    await expect.poll(() => page.locator('h1').textContent()).toContain(firstVersion);
    const card = (await page.locator('article.model-card').textContent())!;
    expect(card).toMatch(/Data snapshot\s*[0-9a-f]{64}/);
    expect(card).toContain('approved by alice@example.com');
    expect(card).toContain('first model, looks sane');
    expect(card).toContain('passed');
    expect(card).toContain('growth-ml@example.com');
    expect(card).toMatch(/: 600 predictions, p50 [\d.]+ ms/);
    expect(card).toContain('Seen serving in 2 drift check windows');
    await checkAccessible(page);
    await screenshot(page, 'version');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.top').isVisible()).toBe(false);
    expect(await page.locator('article.model-card').isVisible()).toBe(true);
    await page.close();
  });

  it('refuses a signed-in person who is not a listed approver, even when the form is forced', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.mallory);
    await page.getByRole('link', { name: 'Approvals' }).click();
    const approve = page.getByRole('button', { name: 'Approve' });
    expect(await approve.isDisabled()).toBe(true);
    expect(await page.locator('article.approval').textContent()).toContain('mallory@example.com is not a listed approver');
    // Enabled by hand, as a tampering user would: the run itself refuses, and says why.
    await page.evaluate(`document.querySelectorAll('form.decision [disabled]').forEach((e) => e.removeAttribute('disabled'))`);
    await page.getByLabel(/Reason/).fill('let me in');
    await approve.click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not a listed approver');
    expect(await page.locator('article.approval').count()).toBe(1);
    await screenshot(page, 'approvals-refused');
    const status = await h.client.workflow.getHandle(retrainWorkflowId(GATED)).describe();
    expect(status.status.name).toBe('RUNNING');
    await page.close();
  });

  it('approves the waiting candidate with the button, and the run finishes promoted', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.alice);
    await page.getByRole('link', { name: 'Approvals' }).click();
    const card = page.locator('article.approval');
    expect(await card.textContent()).toContain(waiting.version);
    expect(await card.locator('table').textContent()).toContain('accuracy');
    expect(await card.textContent()).toContain('Gate: passed');
    await checkAccessible(page);
    await screenshot(page, 'approvals');
    await page.getByLabel(/Reason/).fill('metrics hold on the new labels');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain(`Approved ${waiting.version} of ${GATED}`);

    const summary = await waiting.result;
    expect(summary.outcome).toBe('promoted');
    expect((await readPointer(h.store, GATED)).pointer.champion).toBe(waiting.version);
    await page.goto(`${api.url}/ui/models/${GATED}`);
    expect(await page.locator('dl.facts').textContent()).toContain(waiting.version);
    expect(await page.locator('#run ~ p').first().textContent()).toContain('promoted');
    await page.getByLabel('Event').selectOption('approval');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('section[aria-labelledby=audit] tbody tr').first().textContent()).toContain('metrics hold on the new labels');
    await page.close();
  });

  it('starts a retrain from the model page with the retrain scope, and shows who asked', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.mallory);
    await page.goto(`${api.url}/ui/models/${AUTO}`);
    expect(await page.locator('section[aria-labelledby=run]').textContent()).toContain('needs a signed-in token with the retrain scope');
    expect(await page.getByRole('button', { name: 'Start a retrain' }).count()).toBe(0);

    await signIn(page, TOKENS.alice);
    await page.goto(`${api.url}/ui/models/${AUTO}`);
    await page.getByLabel('Reason').fill('labels of last week landed');
    await page.getByRole('button', { name: 'Start a retrain' }).click();
    await page.waitForURL(`${api.url}/ui/models/${AUTO}#run`);
    const handle = h.client.workflow.getHandle(retrainWorkflowId(AUTO));
    const summary = (await handle.result()) as RetrainSummary;
    // The same rows as the first run: nothing new to promote, and the run says so.
    expect(summary).toMatchObject({ outcome: 'unchanged', requestedBy: 'alice@example.com', reason: 'labels of last week landed' });
    await page.reload();
    const run = (await page.locator('section[aria-labelledby=run]').textContent())!;
    expect(run).toContain('unchanged');
    expect(run).toContain('asked by alice@example.com');
    await page.close();
  });

  it('looks up a prediction and explains it', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.alice);
    await page.getByRole('link', { name: 'Prediction lookup' }).click();
    await page.getByLabel('Prediction id').fill(`${GATED}-1-4`);
    await page.keyboard.press('Enter');
    const answer = page.locator('section[aria-labelledby=answer-h]');
    await expect.poll(() => answer.textContent()).toContain(firstVersion);
    const text = (await answer.textContent())!;
    expect(text).toContain('offered a discount');
    expect(text).toContain('approved');
    expect(text).toContain('alice@example.com');
    expect(text).toContain('enterprise');
    await checkAccessible(page);
    await screenshot(page, 'prediction');

    await page.getByLabel('Prediction id').fill('no-such-prediction');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('No prediction “no-such-prediction”');
    await page.close();
  });

  it('loaded nothing from another site and raised no error in the browser', () => {
    expect(browser.offsiteRequests).toEqual([]);
    expect(problems).toEqual([]);
  });
});
