/**
 * A drift strip: one row per feature, one column per check in x order, each cell drifted (dark),
 * stable (lighter) or not checked (the hatched row shows through), so it reads without colour too.
 */
// `h`, not `html`: see line-chart.ts (Prettier would reformat the markup).
import { html as h, type SafeHtml } from '../html';
import { chartFigure, emptyFigure, svgOpen } from './line-chart';
import { formatNumber, round1, safeId, truncate, utcLabeler } from './scale';

export type StripState = 'drifted' | 'stable' | 'none';
export interface StripCell {
  x: number;
  state: StripState;
  /** The cell's tooltip; the default is "feature · date · state". */
  title?: string;
}
export interface StripRow {
  name: string;
  cells: StripCell[];
}
export interface StripChartOptions {
  id: string;
  title: string;
  description?: string;
  xKind: 'time' | 'category';
  categories?: string[];
  rows: StripRow[];
  width?: number;
}

const ROW = 14;
const CELL = 12;
const TOP = 6;
const BOTTOM = 24;
const RIGHT = 8;

export function stripChart(o: StripChartOptions): SafeHtml {
  const id = safeId(o.id);
  const cells = o.rows.flatMap((r) => r.cells.filter((c) => Number.isFinite(c.x)));
  if (cells.length === 0) return emptyFigure(id, o.title, o.description);

  // Columns are the distinct x values in order, equally spaced: it counts checks, it is not a time axis.
  const columns = [...new Set(cells.map((c) => c.x))].sort((a, b) => a - b);
  const column = new Map(columns.map((x, i) => [x, i]));
  const xLabel: (x: number) => string = o.xKind === 'time' ? utcLabeler(columns) : (x) => o.categories?.[x] ?? String(x);
  const desc =
    o.description ??
    `Drift per feature over ${columns.length} checks: dark cells drifted, lighter cells stable, hatched cells not checked. The counts are in the table below the chart.`;

  const W = o.width ?? 720;
  const H = TOP + o.rows.length * ROW + BOTTOM;
  const widestName = Math.max(...o.rows.map((r) => Math.min(24, [...r.name].length)));
  const left = Math.min(170, Math.max(60, Math.round(widestName * 6.2 + 12)));
  const plotW = W - RIGHT - left;
  const colW = plotW / columns.length;
  // A hairline between wide cells (below); narrow ones touch, or they would be all gap.
  const hatch = `${id}-hatch`;

  const rows = o.rows.map((r, i) => {
    const ry = TOP + i * ROW;
    // A run of checks in one state is one rect with one tooltip: 500 checks of a few features would
    // otherwise be thousands of rects, most of the page's weight.
    const placed = r.cells.filter((c) => column.has(c.x)).sort((a, b) => column.get(a.x)! - column.get(b.x)!);
    const rects: SafeHtml[] = [];
    for (let i = 0; i < placed.length;) {
      const first = placed[i]!;
      let j = i + 1;
      while (
        first.title === undefined &&
        j < placed.length &&
        placed[j]!.state === first.state &&
        placed[j]!.title === undefined &&
        column.get(placed[j]!.x) === column.get(placed[j - 1]!.x)! + 1
      )
        j++;
      const last = placed[j - 1]!;
      const state = first.state === 'none' ? 'not checked' : first.state;
      const title =
        first.title ??
        (j - i === 1
          ? `${r.name} · ${xLabel(first.x)} · ${state}`
          : `${r.name} · ${xLabel(first.x)} – ${xLabel(last.x)} · ${state} (${j - i} checks)`);
      const width = round1(Math.max(0.5, (j - i) * colW - (colW > 4 ? 1 : 0)));
      rects.push(
        h`<rect class="cell-${first.state}" x="${round1(left + column.get(first.x)! * colW)}" y="${ry}" width="${width}" height="${CELL}"><title>${title}</title></rect>`,
      );
      i = j;
    }
    const label = h`<text class="chart-tick" x="${left - 6}" y="${ry + CELL / 2}" dy="0.32em" text-anchor="end"><title>${r.name}</title>${truncate(r.name, 24)}</text>`;
    return h`<g class="strip-row">${label}<rect class="strip-bg" x="${left}" y="${ry}" width="${round1(plotW)}" height="${CELL}" fill="url(#${hatch})"/>${rects}</g>`;
  });

  const labels = columns.map((x) => truncate(xLabel(x), 14));
  const widest = Math.max(...labels.map((l) => [...l].length));
  const step = Math.max(1, Math.ceil(columns.length / Math.max(1, Math.floor(plotW / (widest * 6.2 + 10)))));
  const axisY = TOP + o.rows.length * ROW;
  const xAxis = labels.flatMap((label, i) => {
    if (i % step !== 0) return [];
    const px = round1(left + (i + 0.5) * colW);
    return [
      h`<line class="chart-axis" x1="${px}" x2="${px}" y1="${axisY}" y2="${axisY + 4}"/><text class="chart-tick" x="${px}" y="${axisY + 16}" text-anchor="middle">${label}</text>`,
    ];
  });

  const pattern = h`<pattern id="${hatch}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line class="strip-hatch" x1="0" y1="0" x2="0" y2="4"/></pattern>`;
  const svg = h`${svgOpen(id, W, H, o.title, desc)}<defs>${pattern}</defs>${rows}${xAxis}</svg>`;
  return chartFigure(id, o.title, o.description, [svg, stripLegend(hatch), summaryTable(o.rows, xLabel)]);
}

function stripLegend(hatch: string): SafeHtml {
  const swatch = (cls: string, fill: SafeHtml | null): SafeHtml =>
    h`<svg class="chart-swatch" viewBox="0 0 12 12" width="12" height="12" aria-hidden="true"><rect class="${cls}" x="0.5" y="0.5" width="11" height="11"${fill}/></svg>`;
  const items = [
    h`<li>${swatch('cell-drifted', null)}Drifted</li>`,
    h`<li>${swatch('cell-stable', null)}Stable</li>`,
    h`<li>${swatch('strip-bg', h` fill="url(#${hatch})"`)}Not checked</li>`,
  ];
  return h`<ul class="chart-legend">${items}</ul>`;
}

/** Per feature: checks run, how many drifted, the share, and when it last drifted. */
function summaryTable(rows: readonly StripRow[], xLabel: (x: number) => string): SafeHtml {
  const body = rows.map((r) => {
    const checked = r.cells.filter((c) => c.state !== 'none');
    const drifted = checked.filter((c) => c.state === 'drifted');
    const last = drifted.reduce<number | null>((m, c) => (m === null || c.x > m ? c.x : m), null);
    const share = checked.length ? `${formatNumber(Math.round((1000 * drifted.length) / checked.length) / 10)}%` : '—';
    const nums = [checked.length, drifted.length, share].map((v) => h`<td class="num">${v}</td>`);
    return h`<tr><th scope="row">${r.name}</th>${nums}<td>${last === null ? 'never' : xLabel(last)}</td></tr>`;
  });
  const head = ['Checks', 'Drifted', 'Share drifted'].map((c) => h`<th scope="col" class="num">${c}</th>`);
  return h`<details class="chart-data"><summary>Numbers behind the chart</summary><div class="chart-table-wrap"><table><thead><tr><th scope="col">Feature</th>${head}<th scope="col">Last drifted</th></tr></thead><tbody>${body}</tbody></table></div></details>`;
}
