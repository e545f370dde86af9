import { describe, expect, it } from 'vitest';
import { lineChart, type LineChartOptions } from '../console/charts/line-chart.js';
import {
  formatNumber,
  formatUtcDate,
  formatUtcDateTime,
  niceDomain,
  niceStep,
  niceTicks,
  round1,
  safeId,
  timeTicks,
} from '../console/charts/scale.js';
import { stripChart, type StripChartOptions } from '../console/charts/strip-chart.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 3);
const EVIL = `<script>alert("x&y")</script>`;

/** The `d` of every series path, in order. */
const paths = (markup: string): string[] => [...markup.matchAll(/<path class="chart-line[^"]*" d="([^"]*)"/g)].map((m) => m[1]!);
const count = (markup: string, s: string): number => markup.split(s).length - 1;
/** The chart's SVG alone, without the legend's swatches. */
const plot = (markup: string): string => markup.slice(0, markup.indexOf('<ul class="chart-legend">'));
/** The table rows, each as its cells' text. */
const tableRows = (markup: string): string[][] =>
  [...markup.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => c[1]!));

function accuracy(overrides: Partial<LineChartOptions> = {}): LineChartOptions {
  return {
    id: 'accuracy',
    title: 'Accuracy',
    xKind: 'time',
    yLabel: 'accuracy',
    series: [{ name: 'champion', points: [0, 1, 2, 3, 4].map((i) => ({ x: T0 + i * DAY, y: 0.8 + i * 0.0125 })) }],
    ...overrides,
  };
}

describe('lineChart', () => {
  it('escapes every user-given text: series names, title, labels, categories and markers', () => {
    const out = lineChart({
      id: 'x',
      title: EVIL,
      description: EVIL,
      xKind: 'category',
      categories: [EVIL, 'v2'],
      yLabel: EVIL,
      series: [
        {
          name: EVIL,
          points: [
            { x: 0, y: 1 },
            { x: 1, y: 2 },
          ],
        },
      ],
      markers: [{ x: 1, kind: 'promotion', label: EVIL }],
    }).text;
    expect(out).not.toContain('<script');
    expect(out).not.toContain('"x&y"');
    expect(out).toContain('&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;');
  });

  it('sanitises the id, and every element id derives from it', () => {
    const out = lineChart(accuracy({ id: 'a"b <c>/d' })).text;
    expect(out).toContain('<figure class="chart" id="a-b--c--d">');
    expect(out).toContain('aria-labelledby="a-b--c--d-title a-b--c--d-desc"');
    for (const [, id] of out.matchAll(/ id="([^"]*)"/g)) expect(id).toMatch(/^a-b--c--d(-[a-z]+)?$/);
    expect(out).toContain('clip-path="url(#a-b--c--d-clip)"');
    expect(lineChart(accuracy({ id: '' })).text).toContain('id="chart"');
  });

  it('is an accessible figure: caption, titled SVG, legend, and the numbers in a table', () => {
    const out = lineChart(accuracy({ description: 'Accuracy of the champion per day.' })).text;
    expect(out).toMatch(/^<figure class="chart" id="accuracy"><figcaption>/);
    expect(out).toContain('<desc id="accuracy-desc">Accuracy of the champion per day.</desc>');
    expect(out).toContain('<span class="chart-desc">Accuracy of the champion per day.</span>');
    expect(out).toMatch(/<svg class="chart-svg" viewBox="0 0 720 240"[^>]* role="img"/);
    expect(out).toContain('<ul class="chart-legend">');
    expect(out).toContain('<details class="chart-data"><summary>Numbers behind the chart</summary>');
    expect(out).not.toContain('<script');
  });

  it('lists every point of every series in the table, gaps and missing values told apart', () => {
    const out = lineChart({
      id: 'm',
      title: 'Metrics',
      xKind: 'category',
      categories: ['v1', 'v2', 'v3'],
      yLabel: 'score',
      series: [
        {
          name: 'f1',
          points: [
            { x: 0, y: 0.5 },
            { x: 1, y: null },
            { x: 2, y: 0.7123 },
          ],
        },
        {
          name: 'auc',
          points: [
            { x: 0, y: 0.81 },
            { x: 2, y: 0.9 },
          ],
        },
      ],
    }).text;
    expect(tableRows(out)).toEqual([
      ['Category', 'f1', 'auc'],
      ['v1', '0.5', '0.81'],
      ['v2', '—', ''],
      ['v3', '0.7123', '0.9'],
    ]);
  });

  it('uses yFormat for ticks, tooltips and the table', () => {
    const pct = (v: number): string => `${Math.round(v * 100)}%`;
    const out = lineChart(accuracy({ yFormat: pct, yDomain: [0, 1] })).text;
    expect(out).toContain('>100%</text>');
    expect(out).toContain('<title>2024-01-03 · 80%</title>');
    expect(tableRows(out)[1]).toEqual(['2024-01-03', '80%']);
  });

  it('splits the line at gaps, and keeps a lone value visible', () => {
    const ys = [1, 2, null, 3, 4, null, 5];
    const out = lineChart(accuracy({ series: [{ name: 's', points: ys.map((y, i) => ({ x: T0 + i * DAY, y })) }] })).text;
    const [d] = paths(out);
    expect(count(d!, 'M')).toBe(3);
    expect(count(d!, 'L')).toBe(2);
    expect(d).toMatch(/h0$/);
    expect(count(out, '<circle')).toBe(5);
  });

  it('sorts points by x, dashes the series that ask for it and gives each series its colour class', () => {
    const out = lineChart(
      accuracy({
        series: [
          {
            name: 'a',
            points: [
              { x: T0 + DAY, y: 2 },
              { x: T0, y: 1 },
            ],
          },
          { name: 'b', dashed: true, points: [{ x: T0, y: 1 }] },
        ],
      }),
    ).text;
    const [a] = paths(out);
    const xs = [...a!.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(out).toContain('class="chart-line series-0"');
    expect(out).toContain('class="chart-line series-1 dashed"');
    expect(out).toContain('<title>a · 2024-01-04 · 2</title>');
  });

  it('draws markers with their titles, shapes and kinds, and lists them as events', () => {
    const markers: LineChartOptions['markers'] = [
      { x: T0 + DAY, kind: 'promotion', label: 'v2 promoted' },
      { x: T0 + 2 * DAY, kind: 'rejection', label: 'v3 rejected: f1 fell' },
      { x: T0 + 3 * DAY, kind: 'rollback', label: 'rolled back to v2' },
      { x: T0 + 3 * DAY, kind: 'drift', label: 'age drifted' },
    ];
    const out = lineChart(accuracy({ markers })).text;
    for (const m of markers) expect(out).toContain(`<g class="chart-marker marker-${m.kind}"><title>${m.label}</title>`);
    expect(out).toMatch(/marker-rejection"><title>[^<]*<\/title><line[^>]*\/><path d="M[^"]*M[^"]*"/); // a cross: two strokes
    expect(out).toMatch(/<li>.*?marker-drift.*?<\/svg>Drift<\/li>/);
    const rows = tableRows(out);
    expect(rows[0]).toEqual(['Date (UTC)', 'champion', 'Events']);
    expect(rows[4]).toEqual(['2024-01-06', '0.8375', 'Rollback: rolled back to v2; Drift: age drifted']);
  });

  it('leaves the legend to the marker kinds that occur', () => {
    const out = lineChart(accuracy({ markers: [{ x: T0, kind: 'drift', label: 'd' }] })).text;
    expect(out).toContain('Drift</li>');
    expect(out).not.toContain('Promotion</li>');
  });

  it('says "No data yet" when there is nothing to plot', () => {
    for (const series of [[], [{ name: 's', points: [] }], [{ name: 's', points: [{ x: T0, y: null }] }]]) {
      const out = lineChart(accuracy({ series })).text;
      expect(out).toContain('<p class="chart-empty">No data yet</p>');
      expect(out).not.toContain('<svg');
      expect(out).toMatch(/^<figure class="chart" id="accuracy">.*<\/figure>$/);
    }
  });

  it('respects a fixed y domain, even for values outside it', () => {
    const out = lineChart(
      accuracy({
        yDomain: [0, 1],
        series: [
          {
            name: 's',
            points: [
              { x: T0, y: 0.5 },
              { x: T0 + DAY, y: 0.6 },
            ],
          },
        ],
      }),
    ).text;
    const ticks = [...out.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    // y = 0.5 sits halfway between the plot's bottom (210) and top (28).
    expect(paths(out)[0]).toMatch(/^M[\d.]+,119L/);
  });

  it('picks a sensible domain for one value, equal values and zero', () => {
    const one = lineChart(accuracy({ series: [{ name: 's', points: [{ x: T0, y: 0.8 }] }] })).text;
    expect(one).toContain('<circle');
    expect(paths(one)[0]).toMatch(/^M[\d.]+,[\d.]+h0$/);
    const zeros = lineChart(accuracy({ series: [{ name: 's', points: [0, 1].map((i) => ({ x: T0 + i * DAY, y: 0 })) }] })).text;
    expect([...zeros.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1])).toContain('1');
  });

  it('renders the same string for the same input', () => {
    const opts = accuracy({ markers: [{ x: T0, kind: 'drift', label: 'd' }] });
    expect(lineChart(opts).text).toBe(lineChart(structuredClone(opts)).text);
  });

  it('rounds coordinates to one decimal', () => {
    const out = lineChart(accuracy({ width: 713, height: 217 })).text;
    const numbers = [...out.matchAll(/ (?:x|y|x1|x2|y1|y2|cx|cy)="([^"]*)"/g)].map((m) => m[1]!);
    expect(numbers.length).toBeGreaterThan(10);
    for (const n of numbers) expect(n).toMatch(/^-?\d+(\.\d)?$/);
    for (const d of paths(out)) expect(d).not.toMatch(/\.\d\d/);
  });

  it('draws a 10,000-point series as a line without a dot per point', () => {
    const points = Array.from({ length: 10_000 }, (_, i) => ({ x: T0 + i * 60_000, y: i % 997 === 0 ? null : Math.sin(i / 50) }));
    const out = lineChart(accuracy({ series: [{ name: 'latency', points }] })).text;
    expect(count(out, '<circle')).toBe(0);
    expect(count(paths(out)[0]!, 'L')).toBeGreaterThan(9_000);
    expect(count(out, '<tr>')).toBe(10_001);
  });

  it('labels categories, a subset of them when there are many', () => {
    const categories = Array.from({ length: 120 }, (_, i) => `v${i + 1}`);
    const out = lineChart({
      id: 'v',
      title: 'By version',
      xKind: 'category',
      categories,
      yLabel: 'f1',
      series: [{ name: 'f1', points: categories.map((_, i) => ({ x: i, y: i / 120 })) }],
    }).text;
    const labels = [...out.matchAll(/text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
    expect(labels[0]).toBe('v1');
    expect(labels.length).toBeGreaterThan(5);
    expect(labels.length).toBeLessThan(60);
    expect(out).toContain('<title>v120 · 0.9917</title>');
  });
});

describe('stripChart', () => {
  const features = ['age', 'income', EVIL];
  const options = (overrides: Partial<StripChartOptions> = {}): StripChartOptions => ({
    id: 'drift strip',
    title: 'Drift per feature',
    xKind: 'time',
    rows: features.map((name, f) => ({
      name,
      cells: [0, 1, 2, 3].map((i) => ({
        x: T0 + i * DAY,
        state: (i + f) % 3 === 0 ? 'drifted' : i === 3 && f === 1 ? 'none' : 'stable',
      })),
    })),
    ...overrides,
  });

  it('draws each run of checks in one state as one cell with its tooltip, rows labelled, all escaped', () => {
    const out = stripChart(options()).text;
    expect(out).not.toContain('<script');
    expect(out).toContain('<figure class="chart" id="drift-strip">');
    // age: drifted, stable ×2, drifted; income: stable ×2, drifted, none; the third: stable, drifted, stable ×2.
    expect(count(plot(out), '<rect class="cell-')).toBe(9);
    expect(out).toContain('<title>age · 2024-01-04 – 2024-01-05 · stable (2 checks)</title>');
    expect(out).toContain('<rect class="cell-drifted"');
    expect(out).toContain('<title>age · 2024-01-03 · drifted</title>');
    expect(out).toContain('<title>income · 2024-01-06 · not checked</title>');
    expect(out).toContain('fill="url(#drift-strip-hatch)"');
    expect(out).toContain('&lt;script&gt;');
  });

  it('summarises each feature in the table', () => {
    const rows = tableRows(stripChart(options()).text);
    expect(rows[0]).toEqual(['Feature', 'Checks', 'Drifted', 'Share drifted', 'Last drifted']);
    expect(rows[1]).toEqual(['age', '4', '2', '50%', '2024-01-06']);
    expect(rows[2]).toEqual(['income', '3', '1', '33.3%', '2024-01-05']);
  });

  it('uses the given cell titles and category labels', () => {
    const out = stripChart({
      id: 's',
      title: 'By version',
      xKind: 'category',
      categories: ['v1', 'v2'],
      rows: [
        { name: 'age', cells: [{ x: 1, state: 'stable', title: 'PSI 0.02' }] },
        { name: 'plan', cells: [] },
      ],
    }).text;
    expect(out).toContain('<title>PSI 0.02</title>');
    expect(tableRows(out).slice(1)).toEqual([
      ['age', '1', '0', '0%', 'never'],
      ['plan', '0', '0', '—', 'never'],
    ]);
  });

  it('fits 40 features × 500 checks in the width and says "No data yet" when empty', () => {
    const rows = Array.from({ length: 40 }, (_, f) => ({
      name: `feature_${f}`,
      cells: Array.from({ length: 500 }, (_, i) => ({
        x: T0 + i * DAY,
        state: (i * f) % 7 === 0 ? ('drifted' as const) : ('stable' as const),
      })),
    }));
    const out = stripChart(options({ rows })).text;
    // Runs merge: feature_0 drifts at every check (one run), the others alternate.
    const cellCount = count(plot(out), '<rect class="cell-');
    expect(cellCount).toBeLessThan(20_000);
    expect(cellCount).toBeGreaterThan(39 * 2);
    const xs = [...out.matchAll(/<rect class="cell-[^"]*" x="([^"]*)" y="[^"]*" width="([^"]*)"/g)].map((m) => Number(m[1]) + Number(m[2]));
    expect(Math.max(...xs)).toBeLessThanOrEqual(720);
    expect(stripChart(options({ rows: [] })).text).toContain('No data yet');
    expect(stripChart(options()).text).toBe(stripChart(options()).text);
  });
});

describe('scales', () => {
  it('steps by the 1, 2 or 5 times a power of ten nearest the rough step', () => {
    expect([0.013, 0.17, 1, 1.5, 3, 7, 42, 2500, 0, -1].map((r) => niceStep(r))).toEqual([0.01, 0.2, 1, 2, 2, 5, 50, 2000, 1, 1]);
    expect([0.013, 3, 7, 2500].map((r) => niceStep(r, 'atLeast'))).toEqual([0.02, 5, 10, 5000]);
  });

  it('ticks at nice numbers without float noise', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.1, 0.35, 5)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(-3, 7, 5)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(0, 12_345, 4)).toEqual([0, 2000, 4000, 6000, 8000, 10000, 12000]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('pads a data domain to nice numbers, not below zero for positive data', () => {
    expect(niceDomain([0.81, 0.93])).toEqual([0.8, 0.94]);
    expect(niceDomain([0, 100])).toEqual([0, 120]);
    expect(niceDomain([-5, -1])).toEqual([-6, 0]);
    expect(niceDomain([0.8])).toEqual([0.7, 0.9]);
    expect(niceDomain([0, 0])).toEqual([0, 1]);
    expect(niceDomain([])).toEqual([0, 1]);
  });

  it('formats numbers to 4 significant digits', () => {
    expect([0.812345, 12.5, 1234.56, 123456.7, 0, -0.5, 1e-7].map(formatNumber)).toEqual([
      '0.8123',
      '12.5',
      '1235',
      '123457',
      '0',
      '-0.5',
      '1e-7',
    ]);
  });

  it('puts time ticks on UTC boundaries', () => {
    const iso = (min: number, max: number, n = 6): string[] => timeTicks(min, max, n).ticks.map((t) => new Date(t).toISOString());
    const noon = Date.UTC(2024, 0, 3, 12, 17);
    expect(iso(noon, noon + 5 * 3_600_000)).toEqual([
      '2024-01-03T13:00:00.000Z',
      '2024-01-03T14:00:00.000Z',
      '2024-01-03T15:00:00.000Z',
      '2024-01-03T16:00:00.000Z',
      '2024-01-03T17:00:00.000Z',
    ]);
    expect(iso(noon, noon + 5 * DAY)).toEqual(
      ['2024-01-04', '2024-01-05', '2024-01-06', '2024-01-07', '2024-01-08'].map((d) => `${d}T00:00:00.000Z`),
    );
    // Weeks start on Mondays (2024-01-08 is one).
    expect(iso(T0, T0 + 40 * DAY)).toEqual(
      ['2024-01-08', '2024-01-15', '2024-01-22', '2024-01-29', '2024-02-05', '2024-02-12'].map((d) => `${d}T00:00:00.000Z`),
    );
    expect(iso(T0, T0 + 400 * DAY)).toEqual(['2024-04-01', '2024-07-01', '2024-10-01', '2025-01-01'].map((d) => `${d}T00:00:00.000Z`));
    expect(iso(T0, Date.UTC(2040, 0, 1))).toEqual([2025, 2030, 2035, 2040].map((y) => `${y}-01-01T00:00:00.000Z`));
  });

  it('labels time ticks to suit their spacing', () => {
    const hours = timeTicks(Date.UTC(2024, 0, 3, 18), Date.UTC(2024, 0, 4, 6), 5);
    expect(hours.ticks.map(hours.format)).toEqual(['18:00', '21:00', 'Jan 4', '03:00', '06:00']);
    const months = timeTicks(Date.UTC(2023, 9, 15), Date.UTC(2024, 2, 15), 6);
    expect(months.ticks.map(months.format)).toEqual(['Nov', 'Dec', '2024', 'Feb', 'Mar']);
  });

  it('formats dates in UTC and ids and coordinates safely', () => {
    expect(formatUtcDate(Date.UTC(2024, 1, 29, 23, 59))).toBe('2024-02-29');
    expect(formatUtcDateTime(Date.UTC(2024, 1, 29, 23, 59))).toBe('2024-02-29 23:59');
    expect(formatUtcDateTime(Date.UTC(2024, 1, 29, 23, 59, 7))).toBe('2024-02-29 23:59:07');
    expect(safeId('a b<"c">_-1')).toBe('a-b--c--_-1');
    expect([round1(1.25), round1(-0.04), round1(3)]).toEqual([1.3, 0, 3]);
  });
});
