/**
 * Renders a {@link DriftCheckReport} as one self-contained HTML page: inline CSS and inline SVG
 * only (no scripts, fonts, images or links to fetch), so it opens offline and from an e-mail
 * attachment. Pure: report in, string out. Every string that comes from data is escaped.
 */

import { EFFECT_LABELS } from '../lib/drift/effect-floor';
import type { FeatureDrift } from '../lib/drift/dataset-drift';
import type { DriftCheckReport, FeatureDistribution, SegmentColumnDrift, SegmentValueDrift } from '../lib/drift/report';
import { MISSING_SEGMENT_LABEL } from '../lib/drift/segments';
import type { StattestName } from '../lib/drift/stattest-names';
import { BUDGET_MEASURE_NAMES, type BudgetCheck } from '../lib/serving-budgets';

/** Escapes text for HTML element content and quoted attribute values (SVG included). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number for people: '—' for null, exponent for tiny p-values, 4 significant digits otherwise. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs < 1e-3) return v.toExponential(2);
  if (abs >= 1e4)
    return Math.round(v)
      .toString()
      .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return String(Number(v.toPrecision(4)));
}

/** Money without exponents (0.0003, not 3.00e-4): two significant digits below a cent. */
function formatCost(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (v === 0 || Math.abs(v) >= 0.01) return formatNumber(v);
  return v.toFixed(Math.min(12, 1 - Math.floor(Math.log10(Math.abs(v))))).replace(/0+$/, '');
}

const pct = (x: number, digits = 0) => `${(x * 100).toFixed(digits)}%`;

const METHOD_NAMES: Record<StattestName, string> = {
  psi: 'Population Stability Index',
  jensenshannon: 'Jensen–Shannon distance',
  wasserstein: 'Wasserstein distance (normed)',
  ks: 'Kolmogorov–Smirnov test',
  chisquare: 'chi-square test',
  z: 'z-test for proportions',
};

/** The decision rule in words, so a reader knows which way the threshold cuts. */
function ruleOf(f: Pick<FeatureDrift, 'method' | 'pValue' | 'threshold' | 'effect'>): string {
  const floor = f.effect?.floor !== undefined ? ` and ${EFFECT_LABELS[f.effect.measure]} ≥ ${formatNumber(f.effect.floor)}` : '';
  if (f.method === 'ks') return `drift when p-value ≤ ${formatNumber(f.threshold)}${floor}`;
  if (f.method === 'chisquare' || f.method === 'z') return `drift when p-value < ${formatNumber(f.threshold)}${floor}`;
  return `drift when statistic ≥ ${formatNumber(f.threshold)}`;
}

function badge(drifted: boolean, yes = 'drifted', no = 'no drift'): string {
  return drifted ? `<span class="badge bad">▲ ${yes}</span>` : `<span class="badge good">✓ ${no}</span>`;
}

// ---------------------------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------------------------

const COLORS = { reference: '#4c78a8', current: '#e45756' } as const;

/** A tidy axis for shares: a round step (1%, 2%, 2.5%, 5%…) and the top tick just above the maximum. */
function shareAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const step = [0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25].find((s) => max / s <= 5) ?? 0.25;
  return { top: Math.min(1, Math.ceil(max / step - 1e-9) * step), step };
}

function truncate(label: string, max: number): string {
  const chars = [...label];
  return chars.length <= max ? label : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * A grouped bar chart of reference vs current shares per bin, as inline SVG that scales with
 * its container (viewBox). Each bar carries a `<title>` tooltip with the exact share.
 */
export function distributionChart(
  name: string,
  dist: FeatureDistribution | undefined,
  labels: { reference: string; current: string },
): string {
  const bins = dist?.bins ?? [];
  const W = 560;
  const margin = { left: 48, right: 10, top: 34, bottom: 44 };
  const plotW = W - margin.left - margin.right;
  // Labels turn when the widest one (about 6.5 px a character at 11 px) does not fit its slot.
  const slot = plotW / Math.max(1, bins.length);
  const rotate = bins.some((b) => [...b.label].length * 6.5 > slot - 4);
  const maxLabel = 14;
  if (rotate) margin.bottom = 30 + 6 * Math.min(maxLabel, Math.max(...bins.map((b) => [...b.label].length)));
  const H = 190 + margin.top + margin.bottom;
  const plotH = H - margin.top - margin.bottom;
  const aria = `Distribution of ${name}: reference and current share of rows per bin`;
  const out: string[] = [`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(aria)}">`];
  // Legend, top right: colour and words.
  const legendX = W - margin.right - 250;
  out.push(
    `<g class="legend" font-size="12">`,
    `<rect x="${legendX}" y="8" width="12" height="12" fill="${COLORS.reference}"/><text x="${legendX + 17}" y="18">reference</text>`,
    `<rect x="${legendX + 110}" y="8" width="12" height="12" fill="${COLORS.current}"/><text x="${legendX + 127}" y="18">current</text>`,
    `</g>`,
  );
  if (bins.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted">no values in either window</text></svg>`);
    return out.join('');
  }
  const { top, step } = shareAxis(Math.max(...bins.flatMap((b) => [b.reference, b.current])));
  const y = (share: number) => margin.top + plotH - (share / top) * plotH;
  // Y axis: gridlines and percentage ticks.
  const ticks = Math.round(top / step);
  for (let i = 0; i <= ticks; i++) {
    const v = step * i;
    const yy = y(v).toFixed(1);
    out.push(
      `<line x1="${margin.left}" x2="${W - margin.right}" y1="${yy}" y2="${yy}" class="grid"/>`,
      `<text x="${margin.left - 6}" y="${yy}" dy="4" text-anchor="end" font-size="11">${pct(v, step < 0.01 || step === 0.025 ? 1 : 0)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(12 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11" class="muted axis-title">share of rows</text>`,
  );
  const group = plotW / bins.length;
  const barW = Math.max(1, Math.min(28, group * 0.38));
  bins.forEach((b, i) => {
    const cx = margin.left + group * (i + 0.5);
    for (const [which, share, x] of [
      ['reference', b.reference, cx - barW - 1],
      ['current', b.current, cx + 1],
    ] as const) {
      const yy = y(share);
      const tip = `${b.label}: ${labels[which]} (${which}) ${pct(share, 1)}`;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0, margin.top + plotH - yy).toFixed(1)}" fill="${COLORS[which]}"><title>${escapeHtml(tip)}</title></rect>`,
      );
    }
    const ly = margin.top + plotH + 14;
    const text = escapeHtml(truncate(b.label, maxLabel));
    out.push(
      rotate
        ? `<text transform="translate(${cx.toFixed(1)} ${ly}) rotate(-40)" text-anchor="end" font-size="11"><title>${escapeHtml(b.label)}</title>${text}</text>`
        : `<text x="${cx.toFixed(1)}" y="${ly}" text-anchor="middle" font-size="11"><title>${escapeHtml(b.label)}</title>${text}</text>`,
    );
  });
  out.push(
    `<line x1="${margin.left}" x2="${W - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" class="axis"/>`,
    `<text x="${margin.left + plotW / 2}" y="${H - 6}" text-anchor="middle" font-size="11" class="muted axis-title">${escapeHtml(truncate(name, 60))}${dist?.kind === 'numeric' ? ' (bins)' : ''}</text>`,
    `</svg>`,
  );
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function header(r: DriftCheckReport): string {
  const title = r.model ? `Drift report: ${r.model}${r.version ? ` ${r.version}` : ''}` : 'Drift report';
  const window =
    r.current.from || r.current.to ? ` · window ${escapeHtml(r.current.from ?? '…')} → ${escapeHtml(r.current.to ?? '…')}` : '';
  const d = r.dataDrift.datasetDrift;
  return `<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Reference <b>${escapeHtml(r.reference.label)}</b> (${formatNumber(r.reference.rows)} rows) · current <b>${escapeHtml(r.current.label)}</b> (${formatNumber(r.current.rows)} rows)${window}</p>
<div class="verdict ${r.enoughData === false ? 'unknown' : r.drifted ? 'bad' : 'good'}" role="status">
<div class="verdict-title">${r.enoughData === false ? '? Not enough data: no verdict' : r.drifted ? '▲ Drift detected' : '✓ No drift'}</div>
<p class="summary">${escapeHtml(r.summary)}</p>
${r.accuracy ? `<p class="accuracy">${escapeHtml(r.accuracy)}</p>\n` : ''}<ul class="facts">
<li>Data: ${d.driftedCount} of ${d.featureCount} features drifted (${pct(d.share)}; dataset drift at ≥ ${pct(d.threshold)}): <b>${d.drifted ? 'dataset drift' : 'no dataset drift'}</b></li>
<li>Predictions: <b>${r.predictionDrift ? (r.predictionDrift.drifted ? 'drifted' : 'stable') : 'not checked'}</b></li>
<li>Performance: <b>${r.conceptDrift ? (r.conceptDrift.drifted ? 'regressed' : 'within limits') : 'not checked'}</b></li>
${r.multivariateDrift ? `<li>Features together (domain classifier): <b>${r.multivariateDrift.auc === null ? 'not tested' : r.multivariateDrift.drifted ? 'drifted' : 'no drift'}</b></li>` : ''}
${r.estimatedPerformance ? `<li>Estimated performance, no labels: <b>${r.estimatedPerformance.dropped ? 'dropped' : 'within limits'}</b></li>` : ''}
${r.segments ? `<li>Segments: <b>${segmentFact(r.segments)}</b></li>` : ''}
${r.budgets ? `<li>Serving budgets: <b>${r.budgets.over ? 'over budget' : 'within'}</b> <span class="muted">(not drift)</span></li>` : ''}
</ul>
</div>
<p class="meta">Check ${escapeHtml(r.checkId)} · created ${escapeHtml(r.createdAt)}</p>
</header>`;
}

/** The segments' verdict in a few words for the header. */
function segmentFact(s: NonNullable<DriftCheckReport['segments']>): string {
  if (!s.reference) return 'not tested';
  const values = s.columns.flatMap((c) => c.values);
  const tested = values.filter((v) => v.tested).length;
  const drifted = values.filter((v) => v.datasetDrift).length;
  return drifted > 0 ? `${drifted} of ${tested} tested values drifted` : `no drift in ${tested} tested values`;
}

/** Drifted features first, then in the report's order. */
function sortedFeatures(r: DriftCheckReport): { f: FeatureDrift; index: number }[] {
  return r.dataDrift.features
    .map((f, index) => ({ f, index }))
    .sort((a, b) => Number(b.f.drifted) - Number(a.f.drifted) || a.index - b.index);
}

/** True for a result a partitioned check estimated from sketches (lib/drift/approximate-drift.ts). */
function approximate(f: FeatureDrift): boolean {
  return (f as FeatureDrift & { approximate?: boolean }).approximate === true;
}

function featureTable(r: DriftCheckReport): string {
  if (r.dataDrift.features.length === 0) return `<section><h2>Features</h2><p class="muted">No features were tested.</p></section>`;
  const rows = sortedFeatures(r).map(
    ({ f, index }) => `<tr class="${f.drifted ? 'drifted' : ''}">
<td><a href="#feature-${index}">${escapeHtml(f.name)}</a></td><td class="narrow-hide">${escapeHtml(f.kind)}</td><td class="narrow-hide">${escapeHtml(f.method)}</td>
<td class="num">${approximate(f) ? '<abbr title="estimated from quantile sketches: see the accuracy note">≈</abbr> ' : ''}${formatNumber(f.statistic)}</td><td class="num narrow-hide">${formatNumber(f.pValue)}</td><td class="num narrow-hide">${formatNumber(f.threshold)}</td>
<td>${badge(f.drifted)}</td></tr>`,
  );
  return `<section><h2>Features</h2>
<div class="scroll"><table>
<thead><tr><th>feature</th><th class="narrow-hide">kind</th><th class="narrow-hide">method</th><th class="num">statistic</th><th class="num narrow-hide">p-value</th><th class="num narrow-hide">threshold</th><th>drifted</th></tr></thead>
<tbody>${rows.join('\n')}</tbody>
</table></div></section>`;
}

function driftDetails(f: FeatureDrift): string {
  const missing = (w: FeatureDrift['reference']) => (w.missing + w.infinite > 0 ? `, ${formatNumber(w.missing + w.infinite)} missing` : '');
  return `<dl>
<dt>method</dt><dd>${escapeHtml(f.method)} <span class="muted">(${escapeHtml(METHOD_NAMES[f.method] ?? f.method)}${f.methodSource === 'default' ? ', chosen automatically' : ''})</span></dd>
<dt>statistic</dt><dd>${formatNumber(f.statistic)}</dd>
${f.pValue !== null ? `<dt>p-value</dt><dd>${formatNumber(f.pValue)}</dd>` : ''}
${f.effect?.floor !== undefined ? `<dt>effect size</dt><dd>${escapeHtml(EFFECT_LABELS[f.effect.measure])} ${formatNumber(f.effect.value)} <span class="muted">(floor ${formatNumber(f.effect.floor)}${f.significant && !f.drifted ? ': significant, but too small to count as drift' : ''})</span></dd>` : ''}
<dt>threshold</dt><dd>${formatNumber(f.threshold)} <span class="muted">(${escapeHtml(ruleOf(f))})</span></dd>
<dt>rows</dt><dd>reference ${formatNumber(f.reference.used)}${missing(f.reference)} · current ${formatNumber(f.current.used)}${missing(f.current)}</dd>
${f.note ? `<dt>note</dt><dd>${escapeHtml(f.note)}</dd>` : ''}
</dl>`;
}

function featureCard(f: FeatureDrift, index: number, r: DriftCheckReport): string {
  return `<article class="card${f.drifted ? ' drifted' : ''}" id="feature-${index}">
<h3><span class="name">${escapeHtml(f.name)}</span> ${badge(f.drifted)}</h3>
<p class="muted">${escapeHtml(f.kind)}</p>
${distributionChart(f.name, r.dataDrift.distributions[f.name], { reference: r.reference.label, current: r.current.label })}
${driftDetails(f)}
</article>`;
}

function featureCards(r: DriftCheckReport): string {
  if (r.dataDrift.features.length === 0) return '';
  return `<section><h2>Distributions</h2><div class="cards">${sortedFeatures(r)
    .map(({ f, index }) => featureCard(f, index, r))
    .join('\n')}</div></section>`;
}

function predictionCard(r: DriftCheckReport): string {
  const p = r.predictionDrift;
  const body = p
    ? `<h3>Model outputs ${badge(p.drifted)}</h3><p class="muted">${escapeHtml(p.kind)}</p>
${distributionChart('prediction', p.distribution, { reference: r.reference.label, current: r.current.label })}
${driftDetails(p)}`
    : `<h3>Model outputs</h3><p class="muted">Not checked: no predictions in this window.</p>`;
  return `<article class="card${p?.drifted ? ' drifted' : ''}" id="prediction-drift">${body}</article>`;
}

function conceptCard(r: DriftCheckReport): string {
  const c = r.conceptDrift;
  if (!c)
    return `<article class="card" id="concept-drift"><h3>Performance on labelled rows</h3><p class="muted">Not checked: no newly labelled rows in this window.</p></article>`;
  const change = c.baseline !== null && c.current !== null ? formatNumber(c.current - c.baseline) : '—';
  const others = Object.entries(c.metrics).filter(([name]) => name !== c.metric);
  return `<article class="card${c.drifted ? ' drifted' : ''}" id="concept-drift">
<h3>Performance on labelled rows ${badge(c.drifted, 'regressed', 'within limits')}</h3>
<p class="muted">${formatNumber(c.labelledRows)} newly labelled rows${c.sources ? ` (${formatNumber(c.sources.file)} labelled by the labels file, ${formatNumber(c.sources.log)} by the label log)` : ''}</p>
<div class="scroll"><table>
<thead><tr><th>metric</th><th class="num">baseline</th><th class="num">current</th><th class="num">change</th><th class="num">allowed regression</th></tr></thead>
<tbody><tr><td><b>${escapeHtml(c.metric)}</b></td><td class="num">${formatNumber(c.baseline)}</td><td class="num">${formatNumber(c.current)}</td><td class="num">${change}</td><td class="num">${formatNumber(c.maxRegression)}</td></tr>
${others.map(([name, v]) => `<tr><td>${escapeHtml(name)}</td><td class="num">—</td><td class="num">${formatNumber(v)}</td><td class="num">—</td><td class="num">—</td></tr>`).join('\n')}</tbody>
</table></div>
${
  c.labelsKnown && c.predictionsFrom
    ? `<p class="muted">Labels known ${escapeHtml(c.labelsKnown.from)} → ${escapeHtml(c.labelsKnown.to)}, joined to predictions made ${escapeHtml(c.predictionsFrom)} → ${escapeHtml(c.labelsKnown.to)}</p>`
    : ''
}
${c.note ? `<p class="muted">${escapeHtml(c.note)}</p>` : ''}
</article>`;
}

/** The domain classifier: can a model tell the window's rows from the reference's, and by which features. */
function multivariateCard(r: DriftCheckReport): string {
  const m = r.multivariateDrift;
  if (!m) return '';
  const features = m.topFeatures.length
    ? `<div class="scroll"><table><thead><tr><th>feature</th><th class="num">ROC AUC lost when shuffled</th></tr></thead>
<tbody>${m.topFeatures.map((f) => `<tr><td>${escapeHtml(f.name)}</td><td class="num">${formatNumber(f.importance)}</td></tr>`).join('\n')}</tbody></table></div>`
    : '';
  return `<article class="card${m.drifted ? ' drifted' : ''}" id="multivariate-drift">
<h3>Features together ${m.auc === null ? '<span class="badge">not tested</span>' : badge(m.drifted)}</h3>
<p class="muted">A classifier trained to tell the window's rows from the training rows${m.rows ? ` (${formatNumber(m.rows.reference)} and ${formatNumber(m.rows.current)} rows)` : ''}: ROC AUC ${formatNumber(m.auc)}, drift at ≥ ${formatNumber(m.threshold)}${m.noiseBar !== null ? ` and above chance (${formatNumber(m.noiseBar)})` : ''}. It sees a change in how features go together that the tests of one feature at a time miss.</p>
${features}
<p class="muted">${escapeHtml(m.note)}</p>
</article>`;
}

/** The champion's performance estimated from its scores, beside the realised figure once labels arrive. */
function estimateCard(r: DriftCheckReport): string {
  const e = r.estimatedPerformance;
  if (!e) return '';
  const pctBand = `${Math.round(e.confidence * 100)}% band`;
  const rows = (Object.entries(e.metrics) as [string, { value: number | null; lower: number | null; upper: number | null }][]).map(
    ([name, m]) =>
      `<tr><td>${name === e.metric ? `<b>${escapeHtml(name)}</b>` : escapeHtml(name)}</td><td class="num">${formatNumber(m.value)}</td><td class="num">${formatNumber(m.lower)} – ${formatNumber(m.upper)}</td>` +
      `<td class="num">${formatNumber(e.baselines?.[name as keyof typeof e.baselines] ?? (name === e.metric ? e.baseline : null))}</td><td class="num">${e.realised ? formatNumber(e.realised.metrics?.[name as keyof typeof e.realised.metrics] ?? (name === e.metric ? e.realised.value : null)) : '—'}</td></tr>`,
  );
  return `<article class="card wide${e.dropped ? ' drifted' : ''}" id="estimated-performance">
<h3>Performance estimated without labels ${badge(e.dropped, e.counts ? 'dropped' : 'dropped (reported only)', 'within limits')}</h3>
<p class="muted">From the champion's scores of ${formatNumber(e.rows)} predictions (class ${escapeHtml(e.positiveClass)}${e.missingScores ? `; ${formatNumber(e.missingScores)} without a score left out` : ''}), calibrated on its holdout (confidence-based performance estimation).</p>
<div class="scroll"><table>
<thead><tr><th>metric</th><th class="num">estimate</th><th class="num">${pctBand}</th><th class="num">holdout</th><th class="num">realised${e.realised ? ` (${formatNumber(e.realised.labelledRows)} labels)` : ''}</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
<p class="muted">Allowed regression of ${escapeHtml(e.metric)}: ${formatNumber(e.maxRegression)}. ${escapeHtml(e.assumption)}</p>
${e.note ? `<p class="muted">${escapeHtml(e.note)}</p>` : ''}
</article>`;
}

/** One table per segment column: each value's rows, drifted share and verdict, drifted values first. */
function segmentsSection(r: DriftCheckReport): string {
  const s = r.segments;
  if (!s) return '';
  const intro = `<p class="muted">${escapeHtml(s.note)}${s.reference ? ` A value is tested with at least ${formatNumber(s.minRows.current)} rows in the window and ${formatNumber(s.minRows.reference)} in the training data${s.reference.sampled ? ` (a seeded sample of ${formatNumber(s.reference.rows)} of its ${formatNumber(s.reference.seen)} rows)` : ''}; at most ${formatNumber(s.maxValues)} values per column, the largest.` : ''}</p>`;
  return `<section id="segments"><h2>Segments</h2>${intro}${s.columns.map(segmentTable).join('\n')}</section>`;
}

function segmentTable(c: SegmentColumnDrift): string {
  const head = `<h3>${escapeHtml(c.column)}</h3>`;
  if (c.note) return `${head}<p class="muted">${escapeHtml(c.note)}</p>`;
  const values = [...c.values].sort((a, b) => Number(b.datasetDrift) - Number(a.datasetDrift));
  const left = c.leftOut.values
    ? `<p class="muted">${formatNumber(c.leftOut.values)} smaller ${c.leftOut.values === 1 ? 'value' : 'values'} left out (${formatNumber(c.leftOut.rows.current)} rows in the window, ${formatNumber(c.leftOut.rows.reference)} in the training data).</p>`
    : '';
  return `${head}<div class="scroll"><table>
<thead><tr><th>value</th><th class="num">rows (training)</th><th class="num">rows (window)</th><th class="num">share drifted</th><th>dataset drift</th><th>drifted features</th></tr></thead>
<tbody>${values.map(segmentRow).join('\n')}</tbody></table></div>${left}`;
}

function segmentRow(v: SegmentValueDrift): string {
  const name = v.value === null ? `<i>${escapeHtml(MISSING_SEGMENT_LABEL)}</i>` : escapeHtml(v.value);
  const verdict = v.tested ? badge(v.datasetDrift) : '<span class="badge">not tested</span>';
  const hidden = v.hiddenByAverage ? ' <span class="badge bad">hidden by the average</span>' : '';
  const detail = v.tested
    ? escapeHtml(v.driftedFeatures.join(', ') || '—')
    : `<span class="muted">${escapeHtml((v.note ?? '').replace(/^not tested: /, ''))}</span>`;
  return `<tr class="${v.datasetDrift ? 'drifted' : ''}"><td>${name}</td><td class="num">${formatNumber(v.rows.reference)}</td><td class="num">${formatNumber(v.rows.current)}</td>
<td class="num">${v.share === null ? '—' : `${v.driftedFeatures.length} of ${v.featureCount} (${pct(v.share)})`}</td><td>${verdict}${hidden}</td><td class="wrap">${detail}</td></tr>`;
}

/** Each version's figures against the pipeline's budgets. */
function budgetsTable(r: DriftCheckReport): string {
  const b = r.budgets;
  if (!b) return '';
  if (b.checks.length === 0) return `<h3>Budgets</h3><p class="muted">No serving data in this window to check against the budgets.</p>`;
  return `<h3>Budgets ${b.over ? '<span class="badge bad">▲ over budget</span>' : '<span class="badge good">✓ within</span>'}</h3>
<p class="muted">Over budget is not drift: it alerts the inference owner. A version with fewer than ${formatNumber(b.minPredictions)} predictions is shown, not judged.</p>
<div class="scroll"><table>
<thead><tr><th>version</th><th>measure</th><th class="num">figure</th><th class="num">limit</th><th>verdict</th></tr></thead>
<tbody>${b.checks.map(budgetRow).join('\n')}</tbody></table></div>`;
}

function budgetRow(c: BudgetCheck): string {
  const format = c.what === 'costPer1000' ? formatCost : formatNumber;
  const unit = c.what === 'latencyP95Ms' ? ' ms' : '';
  const verdict = c.over
    ? '<span class="badge bad">▲ over</span>'
    : c.judged
      ? '<span class="badge good">✓ within</span>'
      : '<span class="badge">not judged</span>';
  return `<tr class="${c.over ? 'drifted' : ''}"><td>${escapeHtml(c.version)}</td><td>${escapeHtml(BUDGET_MEASURE_NAMES[c.what])}${c.note ? ` <span class="muted">(${escapeHtml(c.note)})</span>` : ''}</td>
<td class="num">${format(c.figure)}${c.figure === null ? '' : unit}</td><td class="num">${format(c.limit)}${unit}</td><td>${verdict}</td></tr>`;
}

function servingSection(r: DriftCheckReport): string {
  if (!r.serving || r.serving.length === 0) {
    return `<section><h2>Serving</h2><p class="muted">No serving data in this window.</p>${budgetsTable(r)}</section>`;
  }
  const rows = r.serving.map(
    (s) => `<tr><td>${escapeHtml(s.version)}</td><td class="num">${formatNumber(s.predictions)}</td>
<td class="num">${formatNumber(s.latencyMs.p50)}</td><td class="num">${formatNumber(s.latencyMs.p95)}</td><td class="num">${formatNumber(s.latencyMs.max)}</td>
<td class="num">${formatCost(s.cost.perPrediction)}</td><td class="num">${formatCost(s.cost.total)} <span class="muted">(${formatNumber(s.cost.counted)} counted)</span></td></tr>`,
  );
  return `<section><h2>Serving</h2><div class="scroll"><table>
<thead><tr><th>version</th><th class="num">predictions</th><th class="num">latency p50 (ms)</th><th class="num">p95 (ms)</th><th class="num">max (ms)</th><th class="num">cost / prediction</th><th class="num">total cost</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>${budgetsTable(r)}</section>`;
}

const STYLE = `
:root{--bad:#b42318;--bad-bg:#fef3f2;--good:#067647;--good-bg:#ecfdf3;--muted:#5d6675;--line:#d9dde3;--ref:${COLORS.reference};--cur:${COLORS.current}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;background:#f6f7f9}
main{max-width:1160px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 12px}h3{font-size:16px;margin:0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.name{overflow-wrap:anywhere}
.meta,.muted{color:var(--muted)}.meta{margin:4px 0}
.verdict{border:2px solid;border-radius:10px;padding:14px 18px;margin:14px 0}
.verdict.bad{border-color:var(--bad);background:var(--bad-bg)}.verdict.good{border-color:var(--good);background:var(--good-bg)}.verdict.unknown{border-color:var(--muted)}
.verdict-title{font-size:22px;font-weight:700}.verdict.bad .verdict-title{color:var(--bad)}.verdict.good .verdict-title{color:var(--good)}
.summary{font-size:16px;margin:6px 0}.accuracy{margin:6px 0;font-style:italic}.facts{margin:6px 0 0;padding-left:20px}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap;border:1px solid}
.badge.bad{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}.badge.good{color:var(--good);background:var(--good-bg);border-color:var(--good)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:8px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:#eef0f3;font-size:13px}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.drifted td:first-child{border-left:4px solid var(--bad)}
td:first-child{white-space:normal;overflow-wrap:break-word;max-width:22em}
td.wrap{white-space:normal}
a{color:#1f5fa8}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,500px),1fr));gap:16px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0}
.card.drifted{border-top:4px solid var(--bad)}
.card>p.muted{margin:2px 0 6px;font-size:13px}
.chart{width:100%;height:auto;display:block;font-family:inherit}
.chart text{fill:#1d2330}.chart .muted{fill:var(--muted)}.chart .grid{stroke:#e6e8ec}.chart .axis{stroke:#8a93a3}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:10px 0 0;font-size:14px}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,500px),1fr));gap:16px}.pair>.wide{grid-column:1/-1}
footer{margin-top:32px;font-size:13px;color:var(--muted)}
@media (max-width:640px){main{padding:14px 10px 32px}h1{font-size:21px}.verdict-title{font-size:19px}th,td{padding:6px 7px}.card{padding:12px 10px}.chart .legend text,.chart .axis-title{font-size:16px}.narrow-hide{display:none}}
/* On a phone the table keeps name, statistic and verdict; each card below has the rest. */
`;

/** The whole page for one report. */
export function renderDriftReportHtml(r: DriftCheckReport): string {
  const title = `Drift report${r.model ? `: ${r.model}${r.version ? ` ${r.version}` : ''}` : ''} — ${r.drifted ? 'drift detected' : 'no drift'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(r)}
${featureTable(r)}
${segmentsSection(r)}
${featureCards(r)}
<section><h2>Predictions and performance</h2><div class="pair">
${predictionCard(r)}
${conceptCard(r)}
${estimateCard(r)}
${multivariateCard(r)}
</div></section>
${servingSection(r)}
<footer>${escapeHtml(r.kind)} · generated by retrain · shares are of non-missing rows in each window</footer>
</main>
</body>
</html>
`;
}
