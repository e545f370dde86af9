/**
 * Writes part of bench/drift-partitions.ts's prediction log: the hours `--first`, `--first +
 * --step`, … of the window, each as batch files of JSON lines in the store's layout (what
 * serving/prediction-logger.ts writes), from the churn example's generator. The last tenth of
 * the hours drifts (and the model answers "yes"), so the check has something to find.
 *
 *   node --import tsx bench/drift-partitions-child.ts --store DIR --model M --version V
 *     --start ISO --hours H --per-hour N --first I --step S
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateChurn } from '../examples/data/generators';
import { keys } from '../lib/keys';
import { isoHour } from '../lib/log-hours';
import { checkBenchArgs } from './bench-args';

const LINES_PER_BATCH = 5_000;
const HOUR_MS = 3_600_000;

const arg = checkBenchArgs(
  process.argv.slice(2),
  { values: ['--store', '--model', '--version', '--start', '--hours', '--per-hour', '--first', '--step'] },
  import.meta.url,
);
const need = (flag: string): string => arg(flag) ?? fail(`${flag} is required`);
const store = need('--store');
const model = need('--model');
const version = need('--version');
const start = Date.parse(need('--start'));
const hours = Number(need('--hours'));
const perHour = Number(need('--per-hour'));
const first = Number(need('--first'));
const step = Number(need('--step'));

for (let h = first; h < hours; h += step) {
  const drifted = h >= hours - Math.ceil(hours / 10);
  const hourStart = start + h * HOUR_MS;
  for (let b = 0; b * LINES_PER_BATCH < perHour; b++) {
    const n = Math.min(LINES_PER_BATCH, perHour - b * LINES_PER_BATCH);
    const rows = generateChurn({ rows: n, seed: h * 100_003 + b, drift: drifted ? 1 : 0 });
    const lines = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const at = hourStart + Math.floor(((b * LINES_PER_BATCH + i) * HOUR_MS) / perHour);
      lines[i] = JSON.stringify({
        id: `p${h}-${b}-${i}`,
        timestamp: new Date(at).toISOString(),
        model,
        version,
        features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
        prediction: drifted ? 'yes' : 'no',
        latencyMs: 3 + ((i * 7919) % 40) / 4,
        cost: 0.0002,
      });
    }
    const key = keys.predictionBatch(model, isoHour(hourStart), `${String(b).padStart(6, '0')}-bench`);
    const path = join(store, ...key.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, lines.join('\n') + '\n');
  }
  process.stdout.write(`hour ${h}\n`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
