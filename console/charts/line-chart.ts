/**
 * A line chart as server-rendered SVG: series over time or over categories (versions), with event
 * markers and the numbers behind it in a table, so the figure has a full text alternative.
 */
// `h`, not `html`: Prettier reformats templates tagged `html` as HTML, which rewrites their
// whitespace and even closes the unclosed <svg> of svgOpen, changing the output.
import { html as h, type SafeHtml } from '../html';
import { extent, formatNumber, linearScale, niceDomain, niceTicks, round1, safeId, timeTicks, truncate, utcLabeler } from './scale';

export interface ChartPoint {
  /** Epoch ms when xKind is 'time', else the category index. */
  x: number;
  /** null is a gap: no value there. */
  y: number | null;
}
export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  dashed?: boolean;
}
export type MarkerKind = 'promotion' | 'rejection' | 'rollback' | 'drift';
export interface ChartMarker {
  x: number;
  kind: MarkerKind;
  label: string;
}
export interface LineChartOptions {
  /** Unique in the page; every element id derives from it. */
  id: string;
  title: string;
  /** One sentence for screen readers, also shown in the caption. */
  description?: string;
  xKind: 'time' | 'category';
  /** When 'category': the label of x = i. */
  categories?: string[];
  yLabel: string;
  yFormat?: (v: number) => string;
  /** A fixed domain (e.g. [0, 1] for shares); the default is a nice domain around the data. */
  yDomain?: [number, number];
  series: ChartSeries[];
  markers?: ChartMarker[];
  width?: number;
  height?: number;
}

/** Series beyond this many points get a line only: a dot each would be noise and megabytes. */
export const MAX_POINT_DOTS = 300;
/** charts.css colours series-0 … series-7; further series reuse them in turn. */
export const SERIES_COLOURS = 8;
export const MARKER_NAMES: Record<MarkerKind, string> = {
  promotion: 'Promotion',
  rejection: 'Rejection',
  rollback: 'Rollback',
  drift: 'Drift',
};
const MARKER_ORDER: MarkerKind[] = ['promotion', 'rejection', 'rollback', 'drift'];
const DAY = 86_400_000;

/** The marker's shape centred on (cx, cy): the shape tells the kinds apart without colour. */
export function markerPath(kind: MarkerKind, cx: number, cy: number, s = 5): string {
  const p = (x: number, y: number): string => `${round1(cx + x)},${round1(cy + y)}`;
  switch (kind) {
    case 'promotion':
      return `M${p(0, -s)}L${p(s, s)}L${p(-s, s)}Z`;
    case 'rollback':
      return `M${p(0, s)}L${p(s, -s)}L${p(-s, -s)}Z`;
    case 'drift':
      return `M${p(0, -s)}L${p(s, 0)}L${p(0, s)}L${p(-s, 0)}Z`;
    case 'rejection':
      return `M${p(-s, -s)}L${p(s, s)}M${p(s, -s)}L${p(-s, s)}`;
  }
}

/** The figure around a chart: its caption, then the plot, legend and table (or "No data yet"). */
export function chartFigure(id: string, title: string, description: string | undefined, body: SafeHtml | SafeHtml[]): SafeHtml {
  const desc = description ? h` <span class="chart-desc">${description}</span>` : null;
  return h`<figure class="chart" id="${id}"><figcaption><span class="chart-title">${title}</span>${desc}</figcaption>${body}</figure>`;
}

export function emptyFigure(id: string, title: string, description: string | undefined): SafeHtml {
  return chartFigure(id, title, description, h`<p class="chart-empty">No data yet</p>`);
}

/** The opening of an accessible SVG (the caller closes it): its title and desc name it for screen readers. */
export function svgOpen(id: string, width: number, height: number, title: string, desc: string): SafeHtml {
  return h`<svg class="chart-svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc"><title id="${id}-title">${title}</title><desc id="${id}-desc">${desc}</desc>`;
}

const isValue = (y: number | null): y is number => y !== null && Number.isFinite(y);

export function lineChart(o: LineChartOptions): SafeHtml {
  const id = safeId(o.id);
  const W = o.width ?? 720;
  const H = o.height ?? 240;
  const fmt = o.yFormat ?? formatNumber;
  const markers = (o.markers ?? []).filter((m) => Number.isFinite(m.x));
  const series = o.series.map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p.x)).sort((a, b) => a.x - b.x) }));
  const values: number[] = [];
  const xs: number[] = markers.map((m) => m.x);
  for (const s of series) {
    for (const p of s.points) {
      xs.push(p.x);
      if (isValue(p.y)) values.push(p.y);
    }
  }
  if (values.length === 0 && markers.length === 0) return emptyFigure(id, o.title, o.description);

  const xLabel: (x: number) => string = o.xKind === 'time' ? utcLabeler(xs) : (x) => o.categories?.[x] ?? String(x);
  const desc =
    o.description ??
    `${o.yLabel} by ${o.xKind === 'time' ? 'date' : 'category'}, ${series.length} series; the numbers are in the table below the chart.`;

  // The left margin fits the widest y label (about 6.2 units a character at 11px).
  const yCount = Math.max(2, Math.floor((H - 58) / 36));
  const [y0, y1] = o.yDomain ?? niceDomain(values, yCount);
  const yTicks = niceTicks(Math.min(y0, y1), Math.max(y0, y1), yCount);
  const yTickLabels = yTicks.map(fmt);
  const widestY = Math.max(0, ...yTickLabels.map((l) => [...l].length));
  const plot = { left: Math.min(110, Math.max(36, Math.round(widestY * 6.2 + 14))), right: W - 16, top: 28, bottom: H - 30 };
  const plotW = plot.right - plot.left;
  const y = linearScale([y0, y1], [plot.bottom, plot.top]);
  const { x, ticks: xTicks } = o.xKind === 'time' ? timeAxis(xs, plot, plotW) : categoryAxis(xs, o.categories, xLabel, plot, plotW);

  const grid = yTicks.map((t, i) => {
    const py = round1(y(t));
    return h`<line class="chart-grid" x1="${plot.left}" x2="${plot.right}" y1="${py}" y2="${py}"/><text class="chart-tick" x="${plot.left - 6}" y="${py}" dy="0.32em" text-anchor="end">${yTickLabels[i]}</text>`;
  });
  const xAxis = xTicks.map((t) => {
    const px = round1(x(t.at));
    return h`<line class="chart-axis" x1="${px}" x2="${px}" y1="${plot.bottom}" y2="${plot.bottom + 4}"/><text class="chart-tick" x="${px}" y="${plot.bottom + 16}" text-anchor="middle">${t.label}</text>`;
  });

  const many = series.length > 1;
  const lines = series.map((s, i) => {
    const colour = `series-${i % SERIES_COLOURS}`;
    const shown = s.points.filter((p) => isValue(p.y));
    const dots =
      shown.length <= MAX_POINT_DOTS
        ? shown.map(
            (p) =>
              h`<circle class="chart-point ${colour}" cx="${round1(x(p.x))}" cy="${round1(y(p.y!))}" r="2.5"><title>${many ? `${s.name} · ` : ''}${xLabel(p.x)} · ${fmt(p.y!)}</title></circle>`,
          )
        : null;
    return h`<path class="chart-line ${colour}${s.dashed ? ' dashed' : ''}" d="${seriesPath(s.points, x, y)}"/>${dots}`;
  });

  // Markers sit in a band above the plot with a rule down through it; several at one x stack downwards.
  const stacked = new Map<number, number>();
  const marks = markers.map((m) => {
    const px = round1(x(m.x));
    const k = stacked.get(px) ?? 0;
    stacked.set(px, k + 1);
    return h`<g class="chart-marker marker-${m.kind}"><title>${m.label}</title><line class="chart-marker-rule" x1="${px}" x2="${px}" y1="${plot.top}" y2="${plot.bottom}"/><path d="${markerPath(m.kind, px, plot.top - 9 + k * 11)}"/></g>`;
  });

  // Values outside a fixed domain are clipped, a little outside the frame so dots on it stay whole.
  const clip = `${id}-clip`;
  const clipRect = h`<rect x="${plot.left - 4}" y="${plot.top - 4}" width="${plotW + 8}" height="${plot.bottom - plot.top + 8}"/>`;
  const svg = h`${svgOpen(id, W, H, o.title, desc)}<defs><clipPath id="${clip}">${clipRect}</clipPath></defs><text class="chart-axis-label" x="4" y="11">${truncate(o.yLabel, 40)}</text>${grid}<line class="chart-axis" x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}"/>${xAxis}<g clip-path="url(#${clip})">${lines}</g>${marks}</svg>`;
  return chartFigure(id, o.title, o.description, [svg, legend(series, markers), dataTable(o, series, markers, xLabel, fmt)]);
}

type Plot = { left: number; right: number; top: number; bottom: number };
type Axis = { x: (v: number) => number; ticks: { at: number; label: string }[] };

/** Time maps linearly, inset so the end dots are not cut; ticks on UTC boundaries. */
function timeAxis(xs: readonly number[], plot: Plot, plotW: number): Axis {
  let [d0, d1] = extent(xs);
  if (d0 === d1) [d0, d1] = [d0 - DAY, d1 + DAY];
  const t = timeTicks(d0, d1, Math.floor(plotW / 75));
  return { x: linearScale([d0, d1], [plot.left + 8, plot.right - 8]), ticks: t.ticks.map((at) => ({ at, label: t.format(at) })) };
}

/** Each category gets a band; every k-th is labelled when the labels would not fit. */
function categoryAxis(
  xs: readonly number[],
  categories: readonly string[] | undefined,
  xLabel: (x: number) => string,
  plot: Plot,
  plotW: number,
): Axis {
  const n = Math.max(categories?.length ?? 0, Math.floor(extent(xs)[1]) + 1, 1);
  const band = plotW / n;
  const labels = Array.from({ length: n }, (_, i) => truncate(xLabel(i), 14));
  const widest = Math.max(...labels.map((l) => [...l].length));
  const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / (widest * 6.2 + 10)))));
  return {
    x: (v: number): number => plot.left + (v + 0.5) * band,
    ticks: labels.flatMap((label, i) => (i % step === 0 ? [{ at: i, label }] : [])),
  };
}

/** The path of one series: a new subpath after every gap; a lone value gets a zero-length stroke (a dot). */
function seriesPath(points: readonly ChartPoint[], x: (v: number) => number, y: (v: number) => number): string {
  let d = '';
  let run = 0;
  for (const p of points) {
    if (!isValue(p.y)) {
      if (run === 1) d += 'h0';
      run = 0;
      continue;
    }
    d += `${run === 0 ? 'M' : 'L'}${round1(x(p.x))},${round1(y(p.y))}`;
    run++;
  }
  if (run === 1) d += 'h0';
  return d;
}

function legend(series: readonly ChartSeries[], markers: readonly ChartMarker[]): SafeHtml {
  const swatch = (inner: SafeHtml): SafeHtml =>
    h`<svg class="chart-swatch" viewBox="0 0 24 12" width="24" height="12" aria-hidden="true">${inner}</svg>`;
  const lines = series.map(
    (s, i) =>
      h`<li>${swatch(h`<line class="chart-line series-${i % SERIES_COLOURS}${s.dashed ? ' dashed' : ''}" x1="1" x2="23" y1="6" y2="6"/>`)}${s.name}</li>`,
  );
  const kinds = MARKER_ORDER.filter((k) => markers.some((m) => m.kind === k)).map(
    (k) => h`<li>${swatch(h`<g class="chart-marker marker-${k}"><path d="${markerPath(k, 12, 6, 4.5)}"/></g>`)}${MARKER_NAMES[k]}</li>`,
  );
  return h`<ul class="chart-legend">${lines}${kinds}</ul>`;
}

type Row = { values: (number | null | undefined)[]; events: string[] };

/** One row per x, one column per series ("—" for a gap, empty for no point), and the events at that x. */
function dataTable(
  o: LineChartOptions,
  series: readonly ChartSeries[],
  markers: readonly ChartMarker[],
  xLabel: (x: number) => string,
  fmt: (v: number) => string,
): SafeHtml {
  const rows = new Map<number, Row>();
  const row = (at: number): Row => {
    let r = rows.get(at);
    if (!r) rows.set(at, (r = { values: new Array<number | null | undefined>(series.length), events: [] }));
    return r;
  };
  series.forEach((s, i) => s.points.forEach((p) => (row(p.x).values[i] = isValue(p.y) ? p.y : null)));
  for (const m of markers) row(m.x).events.push(`${MARKER_NAMES[m.kind]}: ${m.label}`);
  const events = markers.length > 0;
  const cell = (v: number | null | undefined): SafeHtml => h`<td class="num">${v === undefined ? '' : v === null ? '—' : fmt(v)}</td>`;
  const body = [...rows.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(
      ([at, r]) =>
        h`<tr><th scope="row">${xLabel(at)}</th>${series.map((_, i) => cell(r.values[i]))}${events ? h`<td>${r.events.join('; ')}</td>` : null}</tr>`,
    );
  const head = h`<tr><th scope="col">${o.xKind === 'time' ? 'Date (UTC)' : 'Category'}</th>${series.map((s) => h`<th scope="col" class="num">${s.name}</th>`)}${
    events ? h`<th scope="col">Events</th>` : null
  }</tr>`;
  return h`<details class="chart-data"><summary>Numbers behind the chart</summary><div class="chart-table-wrap"><table><thead>${head}</thead><tbody>${body}</tbody></table></div></details>`;
}
