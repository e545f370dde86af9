import { z } from 'zod';
import { describeContribution } from '../../lib/contributions';
import { explainPredictionById } from '../../services/explain';
import { loadConfig } from '../../services/config';
import type { PredictionExplanation } from '../../lib/prediction-explanation';
import { createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { fmtMetric, output } from '../format';

/** `retrain explain`: why the system made a prediction, from the prediction log, the registry and the audit log. */
export const explainCommand = defineCommand({
  name: 'explain',
  summary: 'why a prediction was made: version, lineage, gate, approval (scans the prediction log)',
  details:
    'Finds the prediction in the prediction log (newest batches first) and shows the version that\nmade it, its lineage, the gate and approval that let it serve, and whether it is still the champion.',
  positionals: [{ name: 'predictionId', noun: 'prediction id', description: 'the id the serving app logged with the prediction' }],
  flags: {
    model: {
      type: 'string',
      schema: z.string().min(1).optional(),
      placeholder: 'NAME',
      description: 'scan only the prediction log of this model',
      shownDefault: 'every model',
    },
    at: {
      type: 'string',
      schema: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}(T\d{2})?$/, 'expected a UTC day YYYY-MM-DD or hour YYYY-MM-DDTHH, e.g. 2026-11-25T14')
        .refine((s) => !Number.isNaN(Date.parse(s.length > 10 ? `${s}:00:00Z` : `${s}T00:00:00Z`)), 'is not a real date')
        .optional(),
      placeholder: 'YYYY-MM-DD[THH]',
      description: 'scan only that UTC day or hour of the log',
      shownDefault: 'all of it',
    },
    contributions: {
      type: 'boolean',
      description:
        "also show the features that pushed this prediction most: runs the version's model in Python\n(linear and tree scikit-learn models of the default trainer)",
    },
    json: jsonFlag,
  },
  examples: [
    'retrain explain c000042 --model churn',
    'retrain explain c000042 --model churn --contributions',
    'retrain explain c000042 --model churn --at 2026-11-25T14 --json',
  ],
  async run(args) {
    const config = loadConfig();
    const store = createStore(config);
    const id = args.predictionId;
    const where = `${args.model ? `predictions/${args.model}/` : 'predictions/'}${args.at ? ` (${args.at} only)` : ''}`;
    const result = await explainPredictionById(store, id, {
      model: args.model,
      at: args.at,
      ...(args.contributions ? { contributions: { config } } : {}),
    });
    if (!result.found) {
      const why = result.invalid
        ? `a line with this id exists but is invalid: ${result.invalid}`
        : `scanned ${result.files} batch file${result.files === 1 ? '' : 's'} under ${where} in ${store.location}`;
      const widen = [
        args.model && 'Leave out --model to scan every model.',
        args.at && 'Leave out --at, or give the day instead of the hour, to scan more.',
      ]
        .filter(Boolean)
        .join(' ');
      process.stderr.write(`retrain: no prediction with id "${id}" found (${why}).${widen ? ` ${widen}` : ''}\n`);
      return 1;
    }
    const { explanation } = result;
    output(args.json, explanation, () => describe(explanation));
    return 0;
  },
});

function describe(e: PredictionExplanation): string {
  const p = e.prediction;
  const out: string[] = [`Prediction ${p.id}: ${p.model} ${p.version}, ${p.timestamp}`];
  out.push(`  prediction: ${p.prediction}${p.score !== undefined ? `   score ${fmtMetric(p.score)}` : ''}`);
  if (p.scores)
    out.push(
      `  scores:     ${Object.entries(p.scores)
        .map(([k, s]) => `${k} ${fmtMetric(s)}`)
        .join(', ')}`,
    );
  out.push(`  latency:    ${p.latencyMs} ms${p.cost !== undefined ? `   cost ${p.cost}` : ''}`);
  out.push(
    `  features:   ${Object.entries(p.features)
      .map(([k, x]) => `${k}=${x === null ? 'null' : x}`)
      .join(', ')}`,
  );
  // What the product did with the prediction: the business logic's part of the answer.
  out.push(`  action:     ${p.action ?? '(not logged: pass action to logPrediction to record what the product did)'}`);
  if (p.context) out.push(`  context:    ${JSON.stringify(p.context)}`);
  out.push(`  logged in:  ${e.loggedIn.key}:${e.loggedIn.line}`, '');
  if (e.contributions) out.push(...describeContributions(e.contributions), '');

  const v = e.version;
  if (!v) {
    out.push(
      `Model version ${p.version}: not in the registry of ${p.model} (served by a version Retrain did not train, or the registry was moved).`,
    );
  } else {
    const l = v.lineage;
    out.push(`Model version ${v.version} (${v.task}, registered ${v.createdAt})`);
    out.push(`  dataset:    sha256 ${l.datasetSha256} (${l.datasetKey}; ${l.rows.train} train / ${l.rows.holdout} holdout rows)`);
    out.push(`  features:   ${l.features.map((f) => `${f.name} (${f.type})`).join(', ')}; label ${l.label}`);
    out.push(`  params:     ${JSON.stringify(l.params)}, seed ${l.seed}`);
    out.push(`  code:       ${l.trainingCodeVersion} (${l.trainingCommand.join(' ')})`);
    out.push(
      `  libraries:  ${
        Object.entries(l.libraryVersions)
          .map(([k, x]) => `${k} ${x}`)
          .join(', ') || '—'
      }`,
    );
    out.push(`  train metrics:   ${metricList(v.trainMetrics)}`);
    if (e.evaluation)
      out.push(
        `  holdout metrics: ${metricList(e.evaluation.metrics)} (vs champion ${e.evaluation.champion ?? 'none'}${e.evaluation.championMetrics ? `: ${metricList(e.evaluation.championMetrics)}` : ''})`,
      );
    out.push(`  trained by: workflow ${l.workflowId}, run ${l.runId}`);
  }
  out.push('');

  out.push('Decisions');
  if (e.gate.length === 0) out.push('  gate:      no gate decision recorded for this version');
  for (const g of e.gate) out.push(`  gate:      ${g.at}  ${g.passed ? 'passed' : 'FAILED'}: ${g.reason}`);
  if (e.approval.length === 0) out.push('  approval:  none recorded (automatic promotion, or no approval step reached)');
  for (const a of e.approval) out.push(`  approval:  ${a.at}  ${a.decision} by ${a.by ?? 'unknown'}${a.reason ? `: ${a.reason}` : ''}`);
  if (e.champion.changes.length === 0) out.push(`  promotion: ${p.version} was never champion`);
  for (const h of e.champion.changes) {
    if (h.to === p.version)
      out.push(`  promotion: ${h.at}  ${h.action === 'promote' ? 'promoted' : 'restored by a rollback'} by ${h.actor}: ${h.reason}`);
    else
      out.push(
        `  replaced:  ${h.at}  ${h.action === 'promote' ? `by ${h.to}, promoted` : `rolled back to ${h.to ?? 'no champion'}`} by ${h.actor}: ${h.reason}`,
      );
  }
  out.push('');

  const c = e.champion;
  const atTime =
    c.atPrediction === p.version
      ? 'it was the champion when it made this prediction'
      : `the champion then was ${c.atPrediction ?? 'none'} (a stale deployment, a shadow or a canary served this)`;
  const now = c.isChampion
    ? `${p.version} is still the champion`
    : c.changes.length
      ? `${p.version} is no longer the champion (now ${c.current ?? 'none'})`
      : `${p.version} has never been the champion (now ${c.current ?? 'none'})`;
  out.push(`Champion: ${now}; ${atTime}.`);
  out.push('', `Next: npx retrain versions ${p.model}   |   npx retrain audit ${p.model}`);
  return out.join('\n');
}

function metricList(m: Record<string, number | null>): string {
  return (
    Object.entries(m)
      .map(([k, x]) => `${k} ${fmtMetric(x)}`)
      .join(', ') || '—'
  );
}

/** The features that pushed the prediction, largest first, or why they are not there. */
function describeContributions(c: NonNullable<PredictionExplanation['contributions']>): string[] {
  if (!c.available) return [`Features that pushed it: not available (${c.reason})`];
  const toward = c.class === null ? 'value' : `${c.output} of "${c.class}"`;
  return [
    `Features that pushed it (${c.method}, ${c.estimator}; ${toward} ${fmtMetric(c.value)} from a base of ${fmtMetric(c.base)}):`,
    ...c.top.map((t) => `  ${describeContribution(t, { class: c.class })}`),
  ];
}
