import { describe, expect, it } from 'vitest';
import { generateChurn } from '../examples/data/generators.js';
import { buildDriftReport, type DriftCheckReport } from '../lib/drift/report.js';
import { testSegments } from '../lib/drift/segments.js';
import { escapeHtml, renderDriftReportHtml } from '../reports/html-report.js';

const EVIL = '<img onerror=x>';

function report(drift: number, withExtras = false): DriftCheckReport {
  const ref = generateChurn({ rows: 1200, seed: 1, drift: 0 });
  const cur = generateChurn({ rows: 900, seed: 2, drift });
  const cols = (rows: typeof ref) => ({
    tenure_months: Float64Array.from(rows, (r) => r.tenure_months),
    support_tickets: Float64Array.from(rows, (r) => r.support_tickets),
    plan: rows.map((r) => r.plan),
    [EVIL]: rows.map((r) => `${r.region}"&'<u>`),
  });
  return buildDriftReport({
    model: 'churn <script>alert(1)</script>',
    version: 'v1',
    checkId: 'check-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    reference: { label: 'training <data>', columns: cols(ref) },
    current: { label: 'window', columns: cols(cur), from: '2026-01-01', to: '2026-01-02' },
    features: [
      { name: 'plan', kind: 'categorical' },
      { name: 'tenure_months', kind: 'numeric' },
      { name: 'support_tickets', kind: 'numeric' },
      { name: EVIL, kind: 'categorical' },
    ],
    ...(withExtras
      ? {
          prediction: { kind: 'categorical' as const, reference: ref.map((r) => r.churned), current: cur.map((r) => r.churned) },
          conceptDrift: {
            labelledRows: 200,
            metric: 'roc_auc',
            baseline: 0.84,
            current: 0.8,
            maxRegression: 0.02,
            metrics: { roc_auc: 0.8, f1: 0.5 },
          },
          serving: [
            {
              version: 'v1',
              predictions: 900,
              latencyMs: { mean: 12, p50: 10, p95: 30, max: 80 },
              cost: { total: 0.27, perPrediction: 0.0003, counted: 900 },
            },
          ],
        }
      : {}),
  });
}

const count = (html: string, s: string) => html.split(s).length - 1;

describe('renderDriftReportHtml', () => {
  it('draws one chart per feature, and one more for the predictions', () => {
    expect(count(renderDriftReportHtml(report(1)), '<svg')).toBe(4);
    expect(count(renderDriftReportHtml(report(1, true)), '<svg')).toBe(5);
  });

  it('is self-contained: no scripts, no remote resources', () => {
    const html = renderDriftReportHtml(report(1, true));
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/url\(|@import|@font-face/i);
    // Only in-page anchors (href="#feature-3") may point anywhere.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*(?!["']?#)/i);
    expect(html).toContain('href="#feature-');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<style>');
  });

  it('escapes every string from the data', () => {
    const html = renderDriftReportHtml(report(1, true));
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain('<u>');
    expect(html).toContain(escapeHtml(EVIL));
    expect(html).toContain('&#60;img onerror=x&#62;');
    expect(html).toContain('churn &#60;script&#62;');
    expect(html).toContain('training &#60;data&#62;');
  });

  it('states the verdict in words, and lists drifted features first', () => {
    const r = report(0.3);
    const html = renderDriftReportHtml(r);
    expect(html).toContain(r.drifted ? 'Drift detected' : 'No drift');
    const table = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    const flags = [...table.matchAll(/<tr class="(drifted)?">/g)].map((m) => m[1] === 'drifted');
    expect(flags).toHaveLength(4);
    expect(flags).toContain(true);
    expect(flags).toContain(false);
    expect(flags).toEqual([...flags].sort((a, b) => Number(b) - Number(a)));
    expect(renderDriftReportHtml(report(1))).toContain('Drift detected');
    const calm = renderDriftReportHtml(report(0));
    expect(calm).toContain('No drift');
    expect(calm).not.toContain('Drift detected');
  });

  it('shows prediction drift, concept drift and serving when present, and says so when absent', () => {
    const full = renderDriftReportHtml(report(1, true));
    expect(full).toContain('Performance on labelled rows');
    expect(full).toContain('regressed');
    expect(full).toContain('latency p50');
    expect(full).toContain('0.0003');
    const bare = renderDriftReportHtml(report(1));
    expect(bare).toContain('Not checked: no predictions in this window.');
    expect(bare).toContain('Not checked: no newly labelled rows in this window.');
    expect(bare).toContain('No serving data in this window.');
  });

  it('shows drift per segment and the serving budgets beside serving, escaped', () => {
    const ref = generateChurn({ rows: 1200, seed: 1, drift: 0 });
    const cur = generateChurn({ rows: 900, seed: 2, drift: 0 }).map((r) =>
      r.plan === 'enterprise' ? { ...r, tenure_months: r.tenure_months + 30, support_tickets: r.support_tickets + 3 } : r,
    );
    const cols = (rows: typeof ref) => ({
      tenure_months: Float64Array.from(rows, (r) => r.tenure_months),
      support_tickets: Float64Array.from(rows, (r) => r.support_tickets),
      plan: rows.map((r) => r.plan),
    });
    // Regions of tainted text, rows without one, and a small one the cap of 3 values leaves out.
    const regions = (rows: typeof ref) => rows.map((r, i) => (i % 40 === 0 ? 'latam' : r.region === 'apac' ? null : `${r.region}${EVIL}`));
    const features = [
      { name: 'tenure_months', kind: 'numeric' as const },
      { name: 'support_tickets', kind: 'numeric' as const },
    ];
    const r = buildDriftReport({
      checkId: 'check-1',
      createdAt: '2026-01-01T00:00:00.000Z',
      reference: { label: 'training', columns: cols(ref) },
      current: { label: 'window', columns: cols(cur) },
      features,
      segments: testSegments({
        columns: ['plan', 'region'],
        reference: { columns: cols(ref), segments: { plan: cols(ref).plan, region: regions(ref) }, rows: ref.length, seen: ref.length },
        current: { columns: cols(cur), segments: { plan: cols(cur).plan, region: regions(cur) }, rows: cur.length },
        features,
        minRows: { reference: 30, current: 30 },
        maxValues: 3,
      }),
      serving: [
        {
          version: 'v1',
          predictions: 900,
          latencyMs: { mean: 12, p50: 10, p95: 30, max: 80 },
          cost: { total: 0.27, perPrediction: 0.0003, counted: 900 },
        },
      ],
      budgets: { limits: { maxCostPer1000: 0.1, maxLatencyP95Ms: 50 }, minPredictions: 30 },
    });
    const html = renderDriftReportHtml(r);

    expect(html).toContain('<section id="segments">');
    expect(html).toContain('<h3>plan</h3>');
    const plan = html.slice(html.indexOf('<h3>plan</h3>'), html.indexOf('<h3>region</h3>'));
    // The drifted segment first.
    expect(plan).toMatch(/^<h3>plan<\/h3>.*\n.*\n<tbody><tr class="drifted"><td>enterprise<\/td>/);
    expect(plan).toContain('<td>basic</td>');
    expect(html).toContain('<i>(missing)</i>');
    expect(html).not.toContain(EVIL);
    expect(html).toContain(`eu${escapeHtml(EVIL)}`);
    expect(html).toContain('1 smaller value left out');
    expect(html).toContain('<li>Segments: <b>');
    expect(html).toContain('<li>Serving budgets: <b>over budget</b>');
    const serving = html.slice(html.indexOf('<h2>Serving</h2>'));
    expect(serving).toContain('Budgets <span class="badge bad">▲ over budget</span>');
    expect(serving).toMatch(
      /cost per 1,000 predictions<\/td>\n<td class="num">0\.3<\/td><td class="num">0\.1<\/td><td><span class="badge bad">▲ over<\/span>/,
    );
    expect(serving).toMatch(
      /p95 latency<\/td>\n<td class="num">30 ms<\/td><td class="num">50 ms<\/td><td><span class="badge good">✓ within<\/span>/,
    );
  });
});
