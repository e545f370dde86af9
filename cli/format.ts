import type { Metrics } from '../lib/gate';
import { describeWindow } from '../lib/time-window';
import type { RunStatus } from '../shared/status';

/** Prints data as JSON (for scripts) when asked, else the human text. */
export function output(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n');
}

/** A metric value for tables: 4 decimals (1 when |v| >= 1000), `—` when missing. */
export function fmtMetric(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(4);
}

/** A two-column comparison of challenger and champion metrics. */
export function metricsTable(m: { challenger: Metrics; champion: Metrics | null }, championVersion: string | null): string {
  const names = Object.keys(m.challenger);
  const width = Math.max(...names.map((n) => n.length), 6);
  const head = `    ${'metric'.padEnd(width)}  ${'challenger'.padStart(12)}  ${(m.champion ? `champion ${championVersion ?? ''}` : 'champion').padStart(12)}`;
  const rows = names.map(
    (n) =>
      `    ${n.padEnd(width)}  ${fmtMetric(m.challenger[n]).padStart(12)}  ${(m.champion ? fmtMetric(m.champion[n]) : '—').padStart(12)}`,
  );
  return [head, ...rows].join('\n');
}

const OUTCOME_LABEL: Record<RunStatus['outcome'], string> = {
  running: 'running',
  promoted: 'PROMOTED',
  unchanged: 'UNCHANGED',
  'rejected-by-gate': 'REJECTED by the gate',
  'rejected-by-approver': 'REJECTED by approval',
  'rolled-back': 'ROLLED BACK',
  cancelled: 'CANCELLED',
  failed: 'FAILED',
};

/**
 * The readable summary of a run (used by `status`, `run --wait` and the demo). A run that has not
 * read the registry yet (it stops or stands before its plan step) knows no champion: the line
 * says so, with `currentChampion` (read from the registry by the caller) when given.
 */
export function describeRun(s: RunStatus, opts: { currentChampion?: string | null } = {}): string {
  // "v1 → v2" once the run has read the registry (its plan step); before, what is known instead.
  const championLine = () => {
    if (s.version !== null || s.championBefore !== null) return `${s.championBefore ?? 'none'} → ${s.championAfter ?? 'none'}`;
    const current = opts.currentChampion;
    if (s.outcome === 'running')
      return current !== undefined
        ? `${current ?? 'none'} (current; the run has not read the registry yet)`
        : 'not read yet (the run has not reached its plan step)';
    return current !== undefined
      ? `${current ?? 'none'} (unchanged: the run stopped before reading the registry)`
      : 'unknown (the run stopped before reading the registry)';
  };
  const lines = [`${s.model}: ${OUTCOME_LABEL[s.outcome]}${s.outcome === 'running' ? ` (step: ${s.step})` : ''}`];
  if (s.message) lines.push(`  ${s.message}`);
  // `reason` is absent from the results of runs that ended before it was recorded.
  if (s.requestedBy || s.reason) lines.push(`  requested by:      ${s.requestedBy ?? 'unknown'}${s.reason ? ` (${s.reason})` : ''}`);
  if (s.version)
    lines.push(`  candidate version: ${s.version}${s.reusedVersion ? ' (reused: trained before from the same data and params)' : ''}`);
  // Only a source with a window reads by asOf; `window` is absent from runs that ended before it was recorded.
  if (s.window) lines.push(`  data:              ${describeWindow(s.window)}`);
  if (s.snapshot)
    lines.push(
      `  dataset snapshot:  ${s.snapshot.sha256.slice(0, 12)} (${s.snapshot.rows} rows${s.snapshot.created ? '' : ', already snapshotted'})`,
    );
  lines.push(`  champion:          ${championLine()}`);
  if (s.metrics) lines.push('  holdout metrics:', metricsTable(s.metrics, s.gate?.championVersion ?? null));
  if (s.gate) lines.push(`  gate:              ${s.gate.passed ? 'passed' : 'failed'}: ${s.gate.reason}`);
  if (s.approval.required) {
    const a = s.approval;
    lines.push(
      `  approval:          ${a.decision ?? 'not reached'}${a.by ? ` by ${a.by}` : ''}${a.reason ? ` (${a.reason})` : ''}; approvers: ${a.approvers.join(', ')}`,
    );
    for (const i of a.ignored) lines.push(`    ignored ${i.action} from ${i.by}: ${i.why}`);
  }
  return lines.join('\n');
}
