/**
 * A drift report's features tested on window summaries (approximate-drift.ts) rather than raw
 * columns, with the distributions the report plots, so that buildDriftReportOf (report.ts)
 * assembles the same report from either. Pure code.
 */

import type { CategoryKey, CountedSample } from './binning';
import type { FeatureSpec } from './dataset-drift';
import {
  categoricalPlotCounts,
  numericPlotCounts,
  testSummarizedFeature,
  type ApproximateFeatureDrift,
  type SummaryColumn,
} from './approximate-drift';
import { labelledHistogram, MAX_CATEGORY_BINS, valueBins, type FeatureDistribution, type TestedFeature } from './report';

/** One feature tested on summaries: the result says whether it is approximate and by how much. */
export interface SummarizedFeature extends TestedFeature {
  drift: ApproximateFeatureDrift;
}

/**
 * Tests one feature on two windows' columns, either of which may be a summary, and bins its
 * distribution for the report.
 * @throws InvalidInputError as testSummarizedFeature does (a missing column, a column of another kind, a bad spec).
 */
export function testSummarized(reference: SummaryColumn, current: SummaryColumn, spec: FeatureSpec): SummarizedFeature {
  const drift = testSummarizedFeature(reference, current, spec);
  return { drift, distribution: summarizedDistribution(reference, current, spec) };
}

/**
 * The bins featureDistribution (report.ts) plots, from summaries: the same bins for exact parts
 * (label counts, numeric columns with few values); estimated shares on the same Sturges edges
 * where a window is a sketch.
 */
export function summarizedDistribution(reference: SummaryColumn, current: SummaryColumn, spec: FeatureSpec): FeatureDistribution {
  const kind = spec.kind;
  if (kind === 'categorical') {
    const counts = categoricalPlotCounts(reference, current, spec.name);
    return { kind, bins: valueBins(counts.reference, counts.current) };
  }
  const plot = numericPlotCounts(reference, current, spec.name, MAX_CATEGORY_BINS);
  if (plot.reference.size + plot.current.size === 0) return { kind, bins: [] };
  if (!plot.edges) return { kind, bins: valueBins(plot.reference, plot.current) };
  const bins = plot.edges.length - 1;
  return {
    kind,
    bins: labelledHistogram(
      plot.edges,
      { counts: byIndex(plot.reference, bins), total: plot.reference.size },
      { counts: byIndex(plot.current, bins), total: plot.current.size },
    ),
  };
}

/** Histogram counts keyed by bin index as an array (a bin not in the map is empty). */
function byIndex(sample: CountedSample, bins: number): Float64Array {
  const out = new Float64Array(bins);
  for (const [k, n] of sample.counts as ReadonlyMap<CategoryKey, number>) if (typeof k === 'number') out[k] = n;
  return out;
}
