/**
 * Performance estimation without labels (lib/performance-estimation) next to NannyML's CBPE, on
 * the same synthetic windows. Not a test: it prints, it asserts nothing.
 *
 *   node --import tsx bench/cbpe.ts [--seed 2024] [--windows 3] [--window-rows 2000] [--holdout-rows 5000]
 *        [--python .retrain/nannyml-venv/bin/python] [--keep-data]
 *
 * Data (the synthetic truth of test/performance-estimation.test.ts): a model scores
 * s = logistic(z), z ~ Normal(mu, sigma), and predicts s >= 0.5; the true P(y = 1 | s) is
 * logistic(2 logit(s) - 0.5), so the raw scores are miscalibrated. The holdout has mu 0, sigma 1.5;
 * --windows windows of each of 8 score distributions (covariate shift: P(y | s) unchanged) follow.
 * Both sides read the same doubles from CSV files in a temporary directory: the holdout with its
 * labels (the TypeScript side fits its calibration on it, NannyML fits CBPE on it) and the windows,
 * whose labels only the "realised" column uses.
 *
 * Per window and metric it prints our estimate, NannyML's and the difference; then per metric the
 * mean and max |difference|, each side's mean |error| against the realised metric, and the mean
 * width of each band as a standard deviation: ours (upper - lower) / (2 × 1.96) of a 95% band
 * from simulated labels, NannyML's `sampling_error` (its band is ±3 of them).
 *
 * NannyML runs in its own venv (pip install nannyml; numbers were taken with 0.13.1):
 *   python3 -m venv .retrain/nannyml-venv && .retrain/nannyml-venv/bin/pip install nannyml statsmodels
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import {
  ESTIMATED_METRICS,
  estimatePerformance,
  type EstimatedMetric,
  fitCalibration,
  type PerformanceEstimate,
} from '../lib/performance-estimation';
import { mulberry32 } from '../lib/split';
import { checkBenchArgs } from './bench-args';
import { drawWindow, HOLDOUT, realised, SCENARIOS, type SyntheticWindow } from '../test/helpers/cbpe-synthetic';

const REPO = resolve(import.meta.dirname, '..');
const PEER = join(REPO, 'bench/cbpe_peer.py');

const arg = checkBenchArgs(
  process.argv.slice(2),
  { values: ['--seed', '--windows', '--window-rows', '--holdout-rows', '--python'], switches: ['--keep-data'] },
  import.meta.url,
);
const seed = Number(arg('--seed') ?? 2024);
const windowsPerScenario = Number(arg('--windows') ?? 3);
const windowRows = Number(arg('--window-rows') ?? 2000);
const holdoutRows = Number(arg('--holdout-rows') ?? 5000);
const python = resolve(REPO, arg('--python') ?? '.retrain/nannyml-venv/bin/python');
const keepData = process.argv.includes('--keep-data');

type Rows = SyntheticWindow;

function csv(rows: Rows[]): string {
  const lines = ['y_pred_proba,y_pred,y_true'];
  for (const r of rows) for (let i = 0; i < r.scores.length; i++) lines.push(`${r.scores[i]},${r.predictedPositive[i]},${r.labels[i]}`);
  return lines.join('\n') + '\n';
}

interface PeerMetric {
  value: number | null;
  samplingError: number | null;
}
interface PeerResult {
  versions: Record<string, string>;
  needsCalibration: boolean;
  windows: Record<EstimatedMetric, PeerMetric>[];
}

/** NannyML and what it needs but does not declare, pinned to the versions the figures were taken with. */
const NANNYML_REQUIREMENTS = ['nannyml==0.13.1', 'statsmodels==0.15.0'];

/** Makes the default venv on first use, as bench/drift.ts does for Evidently. */
function createPeerVenv(): void {
  const venv = resolve(REPO, '.retrain/nannyml-venv');
  process.stderr.write(`creating ${venv} with ${NANNYML_REQUIREMENTS.join(' ')} (first use)\n`);
  for (const [cmd, args] of [
    ['python3', ['-m', 'venv', venv]],
    [python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...NANNYML_REQUIREMENTS]],
  ] as const) {
    const r = spawnSync(cmd, [...args], { stdio: 'inherit' });
    if (r.status !== 0) {
      process.stderr.write(`${cmd} ${args.join(' ')} failed (exit ${r.status})\n`);
      process.exit(1);
    }
  }
}

function main(): void {
  if (!existsSync(python)) {
    if (arg('--python')) {
      process.stderr.write(`no ${python}\n`);
      process.exit(1);
    }
    createPeerVenv();
  }
  const random = mulberry32(seed);
  const holdout = drawWindow(random, holdoutRows, HOLDOUT.mu, HOLDOUT.sigma);
  const windows = SCENARIOS.flatMap((s) =>
    Array.from({ length: windowsPerScenario }, () => ({ scenario: s.name, rows: drawWindow(random, windowRows, s.mu, s.sigma) })),
  );

  const dir = mkdtempSync(join(os.tmpdir(), 'retrain-cbpe-'));
  try {
    writeFileSync(join(dir, 'reference.csv'), csv([holdout]));
    writeFileSync(join(dir, 'analysis.csv'), csv(windows.map((w) => w.rows)));
    const run = spawnSync(python, [PEER, '--dir', dir, '--window-rows', String(windowRows)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`${PEER} exited ${run.status}:\n${run.stderr}`);
    const peer = JSON.parse(run.stdout) as PeerResult;
    if (peer.windows.length !== windows.length)
      throw new Error(`NannyML returned ${peer.windows.length} chunks for ${windows.length} windows`);

    const calibration = fitCalibration({ scores: holdout.scores, outcomes: holdout.labels, positiveClass: 'yes' });
    const ours: PerformanceEstimate[] = windows.map((w, i) =>
      estimatePerformance({ scores: w.rows.scores, predictedPositive: w.rows.predictedPositive, calibration, seed: i + 1 }),
    );
    const truth = windows.map((w) => realised(w.rows.scores, w.rows.predictedPositive, w.rows.labels));
    print(windows, ours, peer, truth);
    console.log(
      `\nNannyML ${peer.versions.nannyml} (Python ${peer.versions.python}, pandas ${peer.versions.pandas}); NannyML calibrates: ${peer.needsCalibration}; ` +
        `our calibration: ${calibration.knots.length} knots, ECE ${calibration.ece.before.toFixed(4)} raw, ${calibration.ece.after.toFixed(4)} calibrated (cross-fitted)`,
    );
    if (keepData) console.log(`data kept in ${dir}`);
  } finally {
    if (!keepData) rmSync(dir, { recursive: true, force: true });
  }
}

const f4 = (x: number | null) => (x === null ? 'null' : x.toFixed(4)).padStart(7);
/** Differences are tiny when both sides agree: their size, not four zeros. */
const e1 = (x: number | null) => (x === null ? 'null' : x === 0 ? '0' : x.toExponential(1)).padStart(9);
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

function print(
  windows: { scenario: string }[],
  ours: PerformanceEstimate[],
  peer: PeerResult,
  truth: Record<EstimatedMetric, number | null>[],
): void {
  console.log(`CBPE, ours next to NannyML's: per window (${windowRows} rows) and metric, ours / NannyML / ours − NannyML`);
  console.log(['window', 'scores'.padEnd(15), ...ESTIMATED_METRICS.map((m) => m.padEnd(24))].join(' '));
  windows.forEach((w, i) => {
    const cells = ESTIMATED_METRICS.map((m) => {
      const a = ours[i]!.metrics[m].value;
      const b = peer.windows[i]![m].value;
      return `${f4(a)}${f4(b)}${e1(diff(a, b))}`;
    });
    console.log([String(i).padStart(6), w.scenario.padEnd(15), ...cells].join(' '));
  });

  console.log('\nper metric        mean|Δ|    max|Δ|  ours mean|err|  NannyML mean|err|  ours sd  NannyML sd');
  for (const m of ESTIMATED_METRICS) {
    const d = windows.map((_, i) => Math.abs(diff(ours[i]!.metrics[m].value, peer.windows[i]![m].value) ?? NaN));
    const errOurs = windows.map((_, i) => Math.abs(diff(ours[i]!.metrics[m].value, truth[i]![m]) ?? NaN));
    const errPeer = windows.map((_, i) => Math.abs(diff(peer.windows[i]![m].value, truth[i]![m]) ?? NaN));
    const sdOurs = windows.map((_, i) => {
      const { lower, upper } = ours[i]!.metrics[m];
      return lower === null || upper === null ? NaN : (upper - lower) / (2 * 1.96);
    });
    const sdPeer = windows.map((_, i) => peer.windows[i]![m].samplingError ?? NaN);
    console.log(
      `${m.padEnd(14)} ${e1(mean(d))} ${e1(Math.max(...d))} ${f4(mean(errOurs)).padStart(15)} ${f4(mean(errPeer)).padStart(18)} ${f4(mean(sdOurs)).padStart(8)} ${f4(mean(sdPeer)).padStart(11)}`,
    );
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

main();
