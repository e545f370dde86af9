import { describe, expect, it } from 'vitest';
import { detectDrift } from '../lib/drift/dataset-drift';
import { applyEffectFloor, DEFAULT_MIN_EFFECT } from '../lib/drift/effect-floor';
import { buildDriftReport } from '../lib/drift/report';
import { chiSquareTest, ksTest, zTest } from '../lib/drift/stattests';
import { pipelineSchema } from '../lib/pipeline';
import { mulberry32 } from '../lib/split';
import { renderDriftReportHtml } from '../reports/html-report';
import { MINIMAL_PIPELINE } from './helpers/pipelines';

/** n standard normal draws shifted by `shift` (Box–Muller, seeded). */
function normal(n: number, shift: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = shift + Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** `n` labels with the given shares of 'a', 'b', 'c' (exact counts, shuffled order does not matter to the tests). */
function labels(n: number, shares: [number, number, number]): string[] {
  const [a, b] = shares.map((s) => Math.round(s * n));
  return [...Array<string>(a).fill('a'), ...Array<string>(b).fill('b'), ...Array<string>(n - a - b).fill('c')];
}

describe('effect-size floor', () => {
  it('does not call a tiny shift on a large window drift, however small its p-value, and says why', () => {
    // 200,000 rows a side, a shift of 0.02 standard deviations: KS D about 0.008, p far below 0.05.
    const reference = normal(200_000, 0, 1);
    const current = normal(200_000, 0.02, 2);
    const report = detectDrift({
      reference: { x: reference },
      current: { x: current },
      features: [{ name: 'x', kind: 'numeric', method: 'ks' }],
    });
    const f = report.features[0]!;
    expect(f.pValue!).toBeLessThan(1e-3);
    expect(f.significant).toBe(true);
    expect(f.drifted).toBe(false);
    expect(f.effect).toEqual({ measure: 'ks_statistic', value: f.statistic, floor: DEFAULT_MIN_EFFECT.ks });
    expect(f.note).toMatch(/significant \(p = .*\) but the effect \(KS statistic 0\.0\d+\) is below the floor of 0\.1: not drift/);
    // The test's own verdict is unchanged: the floor is applied on top of it.
    expect(ksTest(reference, current, { kind: 'numeric' }).drifted).toBe(true);
  });

  it('still calls a real shift drift, and a floor of 0 restores the p-value alone', () => {
    const reference = normal(5_000, 0, 3);
    const shifted = detectDrift({
      reference: { x: reference },
      current: { x: normal(5_000, 0.5, 4) },
      features: [{ name: 'x', kind: 'numeric', method: 'ks' }],
    }).features[0]!;
    expect(shifted.statistic!).toBeGreaterThan(0.15);
    expect(shifted).toMatchObject({ drifted: true, significant: true });
    const tiny = { x: normal(200_000, 0.02, 2) };
    const off = detectDrift({
      reference: { x: normal(200_000, 0, 1) },
      current: tiny,
      features: [{ name: 'x', kind: 'numeric', method: 'ks', minEffect: 0 }],
    }).features[0]!;
    expect(off).toMatchObject({ drifted: true, significant: true, effect: { floor: 0 } });
    expect(off.note).toBeUndefined();
  });

  it("holds chi-square to Cohen's w and the z-test to Cohen's h, computed from the counts", () => {
    // Reference 50/30/20, current 45/33/22 on 100,000 rows: significant, w = sqrt(chi²/n) about 0.11.
    const chi = chiSquareTest(labels(100_000, [0.5, 0.3, 0.2]), labels(100_000, [0.45, 0.33, 0.22]), { kind: 'categorical' });
    const expectedChi = 100_000 * ((0.45 - 0.5) ** 2 / 0.5 + (0.33 - 0.3) ** 2 / 0.3 + (0.22 - 0.2) ** 2 / 0.2);
    expect(chi.statistic!).toBeCloseTo(expectedChi, 6);
    expect(chi.effect).toEqual({ measure: 'cohens_w', value: Math.sqrt(expectedChi / 100_000) });
    expect(applyEffectFloor(chi)).toMatchObject({ drifted: true, effect: { floor: 0.1 } });
    // 50% against 48% of 'a' on 100,000 rows each: p tiny, h = 2 asin √0.5 − 2 asin √0.48 ≈ 0.04.
    const ab = (n: number, a: number) => [...Array<string>(Math.round(a * n)).fill('a'), ...Array<string>(n - Math.round(a * n)).fill('b')];
    const z = zTest(ab(100_000, 0.5), ab(100_000, 0.48), { kind: 'categorical' });
    const h = Math.abs(2 * Math.asin(Math.sqrt(0.5)) - 2 * Math.asin(Math.sqrt(0.52)));
    expect(z.effect!.measure).toBe('cohens_h');
    expect(z.effect!.value).toBeCloseTo(h, 12);
    const floored = applyEffectFloor(z);
    expect(floored).toMatchObject({ significant: true, drifted: false, effect: { value: z.effect!.value, floor: 0.2 } });
    expect(floored.note).toContain("Cohen's h");
  });

  it('leaves the distance tests and empty windows as they are, and is idempotent', () => {
    const psi = { method: 'psi', statistic: 0.2, pValue: null, threshold: 0.1, drifted: true };
    expect(applyEffectFloor(psi)).toBe(psi);
    const empty = { method: 'ks', statistic: null, pValue: null, threshold: 0.05, drifted: false, note: 'empty current window' };
    expect(applyEffectFloor(empty)).toBe(empty);
    const once = applyEffectFloor({ method: 'ks', statistic: 0.05, pValue: 1e-9, threshold: 0.05, drifted: true });
    expect(applyEffectFloor(once, 0.01)).toMatchObject({ significant: true, drifted: true, effect: { floor: 0.01 } });
  });

  it('refuses a negative or non-finite floor, naming the feature', () => {
    const columns = { x: normal(100, 0, 5) };
    for (const minEffect of [-0.1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => detectDrift({ reference: columns, current: columns, features: [{ name: 'x', kind: 'numeric', minEffect }] })).toThrow(
        "feature 'x': minEffect must be a finite number >= 0",
      );
  });

  it('shows the effect, its floor and why a significant result is not drift in the HTML report', () => {
    const report = buildDriftReport({
      checkId: 'c1',
      createdAt: '2026-11-30T00:00:00.000Z',
      reference: { label: 'ref', columns: { x: normal(200_000, 0, 1) } },
      current: { label: 'cur', columns: { x: normal(200_000, 0.02, 2) } },
      features: [{ name: 'x', kind: 'numeric', method: 'ks' }],
    });
    const html = renderDriftReportHtml(report);
    expect(html).toContain('drift when p-value ≤ 0.05 and KS statistic ≥ 0.1');
    expect(html).toContain('significant, but too small to count as drift');
    expect(report.drifted).toBe(false);
  });

  it('takes minEffect per feature and for the predictions in a pipeline, and refuses a negative one', () => {
    const base = MINIMAL_PIPELINE;
    const ok = pipelineSchema.parse({
      ...base,
      drift: { features: { x: { method: 'ks', minEffect: 0.05 } }, prediction: { minEffect: 0 } },
    });
    expect(ok.drift?.features.x?.minEffect).toBe(0.05);
    expect(ok.drift?.prediction.minEffect).toBe(0);
    const bad = pipelineSchema.safeParse({ ...base, drift: { features: { x: { minEffect: -1 } } } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('minEffect');
  });
});
