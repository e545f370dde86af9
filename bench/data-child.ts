/**
 * One measured run of the dataset steps for bench/data.ts, alone in its process, so the process's
 * peak RSS is these steps' own: snapshotSource, validateSnapshot, splitSnapshot from
 * services/datasets.ts, on a local store, exactly as the worker's activities call them.
 *
 *   node --import tsx bench/data-child.ts '<ChildArgs as JSON>'
 *
 * The store is a LocalStore (createStore with RETRAIN_STORE set to `storeDir`, as a worker
 * builds it); a PostgreSQL source reads its URL from the variable `urlEnv` names. Prints one JSON line
 * (ChildResult) on stdout; a step that fails, or a result that does not add up (invalid data,
 * split rows ≠ rows), exits non-zero with the reason on stderr.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePipeline, type Pipeline } from '../lib/pipeline';
import { describeProblems } from '../lib/validate-dataset';
import { loadConfig } from '../services/config';
import { snapshotSource, splitSnapshot, validateSnapshot } from '../services/datasets';
import { createStore } from '../store';

export interface BenchColumn {
  name: string;
  role: 'id' | 'numeric' | 'categorical' | 'label';
}

export type ChildArgs = {
  /** Rows the source holds, to check the split against. */
  rows: number;
  columns: BenchColumn[];
  /** An empty directory for the store. */
  storeDir: string;
  /** The project directory (relative paths would resolve against it). */
  projectDir: string;
} & (
  | { kind: 'csv' | 'parquet'; path: string }
  /** `urlEnv`: the environment variable with the database URL. */
  | { kind: 'postgres'; query: string; urlEnv: string }
);

export interface ChildResult {
  /** Seconds of each step inside this process (no process start, imports or store set-up). */
  snapshotSeconds: number;
  validateSeconds: number;
  splitSeconds: number;
  /** The kernel's peak RSS (VmHWM, KiB) after the imports and after each step: it only grows, so each step's rise shows. */
  hwmKiB: { imports: number; snapshot: number; validate: number; split: number };
  /** The same peak as getrusage reports it at the end (ru_maxrss, KiB): a cross-check of hwmKiB.split. */
  maxRssKiB: number;
  /** User + system CPU seconds of the whole process, start-up included. */
  cpuSeconds: number;
  /** Size of the snapshot stored. */
  snapshotBytes: number;
  trainRows: number;
  holdoutRows: number;
}

function vmHwmKiB(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/self/status (Linux only)');
  return Number(m[1]);
}

/** The pipeline the benchmark runs: classification of `churned` from every numeric and categorical column. */
export function benchPipeline(args: ChildArgs): Pipeline {
  const source = args.kind === 'postgres' ? { kind: 'postgres', urlEnv: args.urlEnv, query: args.query } : { path: args.path };
  const of = (role: BenchColumn['role']) => args.columns.filter((c) => c.role === role).map((c) => c.name);
  return parsePipeline(
    {
      name: 'bench-data',
      task: 'classification',
      source,
      idColumn: of('id')[0],
      label: of('label')[0],
      positiveClass: 'yes',
      features: [
        ...of('numeric').map((name) => ({ name, type: 'numeric' })),
        ...of('categorical').map((name) => ({ name, type: 'categorical' })),
      ],
      holdout: { fraction: 0.2, seed: 7 },
      metrics: { primary: 'roc_auc', others: ['accuracy'] },
      owners: { monitoring: 'bench', retraining: 'bench', inference: 'bench', logging: 'bench' },
    },
    'bench/data-child.ts',
  );
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as ChildArgs;
  // Only what the steps need, not the caller's RETRAIN_* variables.
  const config = loadConfig({ RETRAIN_PROJECT_DIR: args.projectDir, RETRAIN_STORE: args.storeDir });
  const store = createStore(config);
  const pipeline = benchPipeline(args);
  const deps = { store, config };
  const imports = vmHwmKiB();

  const t0 = performance.now();
  const snapshot = await snapshotSource(deps, pipeline);
  const t1 = performance.now();
  const afterSnapshot = vmHwmKiB();
  const report = await validateSnapshot(store, pipeline, snapshot);
  const t2 = performance.now();
  const afterValidate = vmHwmKiB();
  if (!report.ok) throw new Error(`the generated data did not validate:\n${describeProblems(report)}`);
  const split = await splitSnapshot(deps, pipeline, snapshot);
  const t3 = performance.now();
  const afterSplit = vmHwmKiB();
  if (split.trainRows + split.holdoutRows !== args.rows)
    throw new Error(`the split has ${split.trainRows} + ${split.holdoutRows} rows, not the ${args.rows} of the source`);

  const usage = process.resourceUsage();
  const result: ChildResult = {
    snapshotSeconds: (t1 - t0) / 1000,
    validateSeconds: (t2 - t1) / 1000,
    splitSeconds: (t3 - t2) / 1000,
    hwmKiB: { imports, snapshot: afterSnapshot, validate: afterValidate, split: afterSplit },
    maxRssKiB: usage.maxRSS,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    snapshotBytes: snapshot.bytes,
    trainRows: split.trainRows,
    holdoutRows: split.holdoutRows,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Run only as a script (bench/data.ts imports only the types above, so it loads none of the services).
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
