import { z } from 'zod';
import { DURATION, DURATION_HINT } from './duration';
import { formatIssues, InvalidInputError } from './errors';
import { FEATURE_KINDS } from './feature-kind';
// Name-only modules: workflows bundle this schema and must not carry the statistics engines.
import { STATTEST_NAMES } from './drift/stattest-names';
import { METRIC_NAMES, metricsForTask } from './metrics/names';
import { isS3Url, parseS3Url } from './s3-url';

/** A duration string such as `90s`, `15m`, `2h` or `1d` (lib/duration.ts). */
const durationSchema = z.string().regex(DURATION, DURATION_HINT);

const metricNameSchema = z.enum(METRIC_NAMES);

/** What a pipeline's name may be: it is also its file name in pipelines/ and part of its workflow ids. */
export const PIPELINE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const nameSchema = z.string().regex(PIPELINE_NAME, 'expected lowercase letters, digits and dashes, starting with a letter');

const fileSourceSchema = z.object({
  /** Files are the default kind; `kind: 'file'` may be written out. */
  kind: z.literal('file').optional(),
  /**
   * Local path (relative paths are resolved against the project root), an s3://bucket/key
   * object, or an s3://bucket/prefix whose data objects are read as one dataset.
   */
  path: z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      if (!isS3Url(path)) return;
      const url = parseS3Url(path);
      if (!url.ok) ctx.addIssue({ code: 'custom', message: url.error });
    }),
  /** Inferred from the extension (.csv, .jsonl, .ndjson, .parquet) when omitted. */
  format: z.enum(['csv', 'jsonl', 'parquet']).optional(),
  /**
   * How the bytes are read: UTF-8 when omitted (a byte that is not UTF-8 fails validation,
   * naming its line, row and column), or latin1 (read as windows-1252, its superset).
   * Parquet strings are UTF-8 by the format's definition: the setting does not apply to them.
   */
  encoding: z.enum(['utf-8', 'latin1']).optional(),
});

/**
 * Which rows of a source belong to a run, by time: those whose `column` is before the run's
 * `asOf` (the run's start unless a backfill names one), and with `last`, no older than that
 * (see lib/time-window.ts). The same asOf on the same data selects the same rows.
 */
const sourceWindowSchema = z
  .object(
    {
      /** The timestamp column: when a row became known (e.g. labelled_at), not merely when it was created. */
      column: z
        .string({ error: 'name the timestamp column, e.g. column: "labelled_at"' })
        .min(1, 'name the timestamp column, e.g. column: "labelled_at"'),
      /** Only rows this recent before asOf (e.g. '90d'); every row before asOf when omitted. */
      last: durationSchema
        .refine(
          // A zero duration ("0d", "0.0h"); zod runs this after a failed format check too, so no durationToMs here.
          (d) => !/^[0.]+[a-z]+$/.test(d),
          'a window of no time selects no rows: give a duration such as "90d", or leave last out for every row before asOf',
        )
        .optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected { column: "<timestamp column>", last?: "90d" }' : undefined) },
  )
  .strict();

/** The training source's time window (file or PostgreSQL source). */
const windowField = { window: sourceWindowSchema.optional() };

/** What an environment variable's name may be. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A PostgreSQL query whose rows are the dataset: read in a read-only transaction and
 * snapshotted as CSV (see services/postgres-source.ts).
 */
const postgresSourceSchema = z
  .object({
    kind: z.literal('postgres'),
    /** The environment variable that holds the database URL (never the URL itself: it carries the password). */
    urlEnv: z.string().regex(ENV_NAME, 'expected the name of an environment variable, e.g. CHURN_DATABASE_URL'),
    /** One SELECT (or WITH … SELECT) with a top-level ORDER BY, so the same rows give the same snapshot. */
    query: z.string().superRefine((query, ctx) => {
      const problem = postgresQueryProblem(query);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** Values bound to $1, $2, … in the query. */
    params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    ...windowField,
  })
  .strict();

/** The training source of files: a {@link fileSourceSchema} that may have a time window. */
const trainingFileSourceSchema = fileSourceSchema.extend(windowField);

/**
 * A file source whose rows are all used: a holdout or the labels of concept drift. A window
 * given there is refused by name (a file source's unknown keys are otherwise dropped).
 */
function fixedFileSourceSchema(why: string) {
  return fileSourceSchema.extend({ window: z.never({ error: why }).optional() });
}

/** The pipeline's data: files (local or S3), or a PostgreSQL query. */
const sourceSchema = z.discriminatedUnion('kind', [trainingFileSourceSchema, postgresSourceSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? "expected kind 'file' (or none) or 'postgres'" : undefined),
});

/**
 * Why a PostgreSQL source's query cannot be used, or null. A heuristic, not a SQL parser: after
 * dropping comments, quoted text and parenthesised parts, the query must start with SELECT or
 * WITH, be one statement, and have an ORDER BY left over (at its top level). The read-only
 * transaction the query runs in is the server-side guard.
 */
export function postgresQueryProblem(query: string): string | null {
  const bare = topLevelSql(query);
  if (bare.trim() === '') return 'expected a SELECT query';
  if (!/^\s*(select|with)\b/i.test(bare))
    return `expected a SELECT (or WITH … SELECT) query, not "${bare.trim().split(/\s+/)[0]}": a source only reads`;
  if (/;\s*\S/.test(bare)) return 'expected one statement (a ";" ends it)';
  if (!/\border\s+by\b/i.test(bare))
    return 'the query needs an ORDER BY (on a unique key, e.g. ORDER BY customer_id): rows in an unspecified order give a different snapshot hash for the same data';
  return null;
}

/** The query without comments, quoted strings and identifiers, and parenthesised parts. */
function topLevelSql(query: string): string {
  let s = query
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, "''");
  for (let before = ''; before !== s;) {
    before = s;
    s = s.replace(/\([^()]*\)/g, ' ');
  }
  return s;
}

const featureSchema = z.object({
  name: z.string().min(1),
  type: z.enum(FEATURE_KINDS),
});

const holdoutSchema = z.union([
  z.object({ fraction: z.number().gt(0).lt(1), seed: z.number().int().default(7) }).strict(),
  z
    .object({
      source: fixedFileSourceSchema(
        'a holdout source takes no window: the holdout is fixed data, read whole, so champion and challenger are compared on the same rows (the window applies to the training source)',
      ),
    })
    .strict(),
]);

const commandSchema = z.array(z.string().min(1)).min(1, 'expected a command as an array, e.g. ["$PYTHON", "training/train.py"]');

const trainingSchema = z.object({
  /** Training command (no shell). The worker appends the request file's path. */
  command: commandSchema.default(['$PYTHON', '$RETRAIN_HOME/training/train.py']),
  /** Predict command with the same contract style (training/CONTRACT.md). */
  predictCommand: commandSchema.default(['$PYTHON', '$RETRAIN_HOME/training/predict.py']),
  params: z.record(z.string(), z.json()).default({}),
  seed: z.number().int().default(42),
  /** Whole training attempt; the process group is killed past it. */
  timeout: durationSchema.default('2h'),
  /** No progress line or liveness tick for this long and Temporal retries elsewhere. */
  heartbeatTimeout: durationSchema.default('60s'),
  /**
   * The training command is stopped, and the attempt fails (retried while attempts are left), when
   * it prints no progress line for this long: a trainer that lives but no longer gets anywhere.
   * Unset: no limit but `timeout` (the worker's liveness heartbeats go on while the process lives).
   */
  progressTimeout: durationSchema.optional(),
  maxAttempts: z.number().int().min(1).max(20).default(3),
});

const gateSchema = z
  .object({
    metric: metricNameSchema,
    /** Absolute floor (for metrics where higher is better). */
    min: z.number().optional(),
    /** Absolute ceiling (for metrics where lower is better, e.g. rmse or log_loss). */
    max: z.number().optional(),
    /** Largest allowed worsening against the champion, in the metric's own units. */
    maxRegression: z.number().min(0).optional(),
  })
  .refine((g) => g.min !== undefined || g.max !== undefined || g.maxRegression !== undefined, {
    message: 'a gate needs at least one of min, max or maxRegression',
  });

const approvalSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('auto') }),
  z.object({
    mode: z.literal('manual'),
    approvers: z.array(z.string().min(1)).min(1, 'list at least one approver'),
    timeout: durationSchema.default('24h'),
    /** What silence means when the timeout passes. */
    onTimeout: z.enum(['reject', 'approve']).default('reject'),
  }),
]);

const ownersSchema = z.object({
  monitoring: z.string().min(1),
  retraining: z.string().min(1),
  inference: z.string().min(1),
  logging: z.string().min(1),
});

const validationSchema = z.object({
  minRows: z.number().int().min(1).default(50),
  /** Largest share of null/empty/NaN values allowed in any used column. */
  maxNullShare: z.number().min(0).max(1).default(0.05),
  /** Largest share of exact duplicate rows allowed. */
  maxDuplicateShare: z.number().min(0).max(1).default(0.05),
  /** Columns present in the data but not named in the pipeline: note them, or fail. */
  extraColumns: z.enum(['ignore', 'fail']).default('ignore'),
});

const verificationSchema = z.object({
  /** Holdout rows the promoted model must predict after promotion. */
  sampleRows: z.number().int().min(1).default(50),
});

const stattestSchema = z.object({
  /** Drift test for this column; chosen by column type and reference size when omitted. */
  method: z.enum(STATTEST_NAMES).optional(),
  /** The test's threshold (a p-value for ks, chisquare and z; a distance for the others). */
  threshold: z.number().gt(0).optional(),
  /**
   * ks, chisquare and z only: the smallest difference that counts as drift, however small the
   * p-value (the KS statistic, Cohen's w, Cohen's h). Defaults 0.1, 0.1 and 0.2
   * (lib/drift/effect-floor.ts); 0 turns the floor off.
   */
  minEffect: z.number().min(0).optional(),
});

/** Drift monitoring of a pipeline's champion (the driftCheck workflow). */
const driftSchema = z.object({
  /** How far back the prediction-log window of a check reaches. */
  window: durationSchema.default('24h'),
  /** Fewer logged predictions than this in the window: no verdict (too little data). */
  minPredictions: z.number().int().min(1).default(30),
  /**
   * Most prediction-log rows a check holds: a larger window is uniformly sampled down to this
   * many rows (seeded, reproducible), so a check's memory is bounded; the report says so.
   */
  maxWindowRows: z.number().int().min(1000).default(1_000_000),
  /**
   * Read the window in parallel, one activity per UTC hour of the prediction log (any number of
   * workers share them), each summarising its hour; the check merges the summaries. Every
   * prediction counts (no sampling, so maxWindowRows does not apply) and a worker holds one
   * summary, not the window; numeric features with more than 1000 distinct values are then
   * tested on quantile sketches, and the report states the rank error. For windows too large
   * for one worker.
   */
  partitioned: z.boolean().default(false),
  /**
   * Multivariate drift: a classifier (training/domain_classifier.py) learns to tell the champion's
   * training rows from the window's; drift when its cross-validated ROC AUC reaches `threshold`
   * and is beyond chance for the rows used. Catches features that changed together while each
   * one alone did not (a flipped correlation). Costs a model fit per check: off unless given.
   */
  multivariate: z
    .object({
      threshold: z.number().gt(0.5).lt(1).default(0.55),
      /** Rows per window the classifier uses at most (a seeded sample beyond). */
      maxRows: z.number().int().min(100).max(1_000_000).default(20_000),
      folds: z.number().int().min(2).max(10).default(5),
    })
    .strict()
    .optional(),
  /** Dataset drift when at least this share of features drifted. */
  datasetDriftShare: z.number().gt(0).max(1).default(0.5),
  /** Per-feature test settings, by feature name. */
  features: z.record(z.string(), stattestSchema).default({}),
  /** Test settings for the model's outputs (prediction drift). */
  prediction: stattestSchema.default({}),
  /** Concept drift: newly labelled rows (id column + label), joined to logged predictions by id. */
  labels: fixedFileSourceSchema(
    'drift.labels takes no window: a drift check joins the labels that became known in its own window (drift.window, drift.labelDelay)',
  ).optional(),
  /**
   * How long after a prediction its label may arrive (e.g. '45d' for a churn label known at the
   * renewal date). A check joins the labels that became known in its window [from, to) to the
   * champion's predictions made in [from - labelDelay, to), found by id; '0s' joins them to the
   * window's predictions only.
   */
  labelDelay: durationSchema.default('0s'),
  /** Concept drift when the primary metric on labelled rows is worse than the holdout baseline by more than this. */
  maxMetricRegression: z.number().min(0).default(0.05),
  /**
   * Binary classifiers: the champion's performance is estimated from its logged scores before
   * labels arrive (calibrated on its holdout). 'report': in the report and metrics only;
   * 'drift': an estimated drop beyond maxMetricRegression is drift (alert, and retrain with
   * onDrift 'retrain').
   */
  onEstimatedDrop: z.enum(['report', 'drift']).default('report'),
  /**
   * Invalid prediction-log lines (left out of every check) above this share of the window's lines
   * alert the logging owner (`alerts.logging`): the log is how every other question is answered.
   */
  maxInvalidLineShare: z.number().min(0).max(1).default(0.01),
  /**
   * Drift is confirmed (alert, and retrain with onDrift 'retrain') only once it held for this
   * many consecutive checks; a check without enough data neither counts nor breaks the run.
   */
  alertAfter: z.number().int().min(1).max(100).default(1),
  /**
   * After an alert, no new alert (nor drift-started retrain) for this long while drift goes on:
   * one incident, one alert; the next one says how many drifted checks it covers. '0s': every
   * confirmed check alerts.
   */
  cooldown: durationSchema.default('0s'),
  /** What confirmed drift does: alert the monitoring owner, or alert and start a retrain. */
  onDrift: z.enum(['alert', 'retrain']).default('alert'),
  /** JSON POST target for alerts (else RETRAIN_ALERT_WEBHOOK, else log and audit only). */
  alertWebhook: z.url({ protocol: /^https?$/ }).optional(),
});

/**
 * The promotion gate per segment: the challenger's primary metric may be worse than the
 * champion's by at most `maxRegression` in each value of each segment column, on the same holdout
 * rows (the biggest customers must not get a worse model because the average improved).
 */
const segmentGateSchema = z
  .object({
    maxRegression: z.number().min(0),
    /** Segment values with fewer holdout rows than this are shown but not gated (too noisy to judge). */
    minRows: z.number().int().min(1).default(30),
  })
  .strict();

/** What serving may cost and how slow it may be: checked on every drift check, and gated at evaluation. */
const budgetsSchema = z
  .object({
    /** Most 1,000 predictions may cost, in the currency unit of the log's `cost` (mean cost × 1,000). */
    maxCostPer1000: z.number().positive().optional(),
    /** Highest p95 serving latency allowed, in milliseconds (the log's `latencyMs`). */
    maxLatencyP95Ms: z.number().positive().optional(),
    /**
     * The challenger's predict latency per row at evaluation may be at most this many times the
     * champion's (both predict the same holdout, one after the other, on the same worker).
     */
    maxLatencyRatio: z.number().min(1).optional(),
  })
  .strict();

/** Where one area's alerts go: a webhook that takes Retrain's JSON, or a Slack-compatible incoming webhook. */
const alertRouteSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** 'json': Retrain's alert object; 'slack': `{ text }` as Slack, Mattermost and Rocket.Chat incoming webhooks take it. */
    format: z.enum(['json', 'slack']).default('json'),
  })
  .strict();

/**
 * Alert routes per area of ownership (the owners named in `owners`): drift alerts go to
 * monitoring, rollbacks to retraining. Each route gets each alert once.
 */
const alertsSchema = z
  .object({
    monitoring: z.array(alertRouteSchema).default([]),
    retraining: z.array(alertRouteSchema).default([]),
    inference: z.array(alertRouteSchema).default([]),
    logging: z.array(alertRouteSchema).default([]),
  })
  .strict();

const scheduleSchema = z.object({
  /** Cron expression for the drift check, e.g. "0 * * * *" (hourly). */
  cron: z.string().min(9),
});

/** The one schema of a pipeline definition (pipelines/<model>.ts). */
export const pipelineSchema = z
  .object({
    name: nameSchema,
    description: z.string().optional(),
    task: z.enum(['classification', 'regression']),
    source: sourceSchema,
    /** Column that identifies a row (used to join predictions and labels later). */
    idColumn: z.string().min(1).optional(),
    label: z.string().min(1),
    /** For binary classification: the class that precision, recall and ROC AUC are about. */
    positiveClass: z.string().min(1).optional(),
    features: z.array(featureSchema).min(1, 'list at least one feature'),
    holdout: holdoutSchema.default({ fraction: 0.2, seed: 7 }),
    training: trainingSchema.prefault({}),
    metrics: z.object({ primary: metricNameSchema, others: z.array(metricNameSchema).default([]) }),
    gates: z.array(gateSchema).default([]),
    /**
     * Columns that split the rows into segments (plan tier, region): categorical columns of the
     * training data, logged with each prediction's features. Drift checks report drift per
     * segment; with `segmentGate`, promotion is gated per segment too.
     */
    segments: z.array(z.string().min(1)).max(5, 'at most 5 segment columns').default([]),
    segmentGate: segmentGateSchema.optional(),
    budgets: budgetsSchema.optional(),
    approval: approvalSchema.default({ mode: 'auto' }),
    owners: ownersSchema,
    validation: validationSchema.prefault({}),
    verification: verificationSchema.prefault({}),
    drift: driftSchema.optional(),
    alerts: alertsSchema.optional(),
    schedule: scheduleSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const allowed = metricsForTask(p.task).map((m) => m.name as string);
    const used = [
      { path: ['metrics', 'primary'], metric: p.metrics.primary },
      ...p.metrics.others.map((metric, i) => ({ path: ['metrics', 'others', i], metric })),
      ...p.gates.map((g, i) => ({ path: ['gates', i, 'metric'], metric: g.metric })),
    ];
    for (const { path, metric } of used) {
      if (!allowed.includes(metric)) {
        ctx.addIssue({ code: 'custom', path, message: `"${metric}" is not a ${p.task} metric (use one of ${allowed.join(', ')})` });
      }
    }
    for (const name of Object.keys(p.drift?.features ?? {})) {
      if (!p.features.some((f) => f.name === name))
        ctx.addIssue({ code: 'custom', path: ['drift', 'features', name], message: `"${name}" is not a feature of this pipeline` });
    }
    if (p.schedule && !p.drift)
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'a schedule runs drift checks: add drift: { … } settings too' });
    if (p.source.window?.column === p.label)
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'window', 'column'],
        message: `the label "${p.label}" cannot be the window's timestamp column: name the column that says when a row became known`,
      });
    if (p.segmentGate && p.segments.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['segmentGate'],
        message: 'a segment gate needs segments: name the segment columns, e.g. segments: ["plan"]',
      });
    p.segments.forEach((name, i) => {
      if (name === p.label) ctx.addIssue({ code: 'custom', path: ['segments', i], message: 'the label cannot be a segment column' });
      if (p.features.some((f) => f.name === name && f.type === 'numeric'))
        ctx.addIssue({
          code: 'custom',
          path: ['segments', i],
          message: `"${name}" is a numeric feature: segments are categories (bucket it into a column of its own)`,
        });
      if (p.segments.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['segments', i], message: `duplicate segment "${name}"` });
    });
    if (p.drift?.labels && !p.idColumn)
      ctx.addIssue({ code: 'custom', path: ['drift', 'labels'], message: 'concept drift joins labels to predictions by id: set idColumn' });
    const names = new Set<string>();
    p.features.forEach((f, i) => {
      if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature "${f.name}"` });
      if (f.name === p.label)
        ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: 'the label cannot also be a feature' });
      names.add(f.name);
    });
  });

/** What a pipeline file writes (defaults may be left out). */
export type PipelineInput = z.input<typeof pipelineSchema>;
/** A validated pipeline with every default filled in. */
export type Pipeline = z.output<typeof pipelineSchema>;

/**
 * Declares a pipeline in `pipelines/<model>.ts`. Validation happens here, so a mistake fails
 * when the file is loaded, naming the field.
 */
export function definePipeline(input: PipelineInput): Pipeline {
  return parsePipeline(input, `pipeline "${(input as { name?: string })?.name ?? '?'}"`);
}

/** Validates an untrusted pipeline definition; `source` names it in the error. */
export function parsePipeline(input: unknown, source: string): Pipeline {
  const result = pipelineSchema.safeParse(input);
  if (!result.success) throw new InvalidInputError(formatIssues(source, result.error.issues), { step: 'load-pipeline' });
  return result.data;
}

/** Where one area's alerts go. */
export type AlertRoute = z.output<typeof alertRouteSchema>;

/** A data source: files, or a PostgreSQL query. */
export type DataSource = z.infer<typeof sourceSchema>;
/** A data source of files (local or S3). */
export type FileSource = z.infer<typeof fileSourceSchema>;
/** Which rows of the training source a run reads, by a timestamp column and the run's asOf. */
export type SourceWindow = z.infer<typeof sourceWindowSchema>;
/** A data source that is a PostgreSQL query. */
export type PostgresSource = z.infer<typeof postgresSourceSchema>;

/**
 * Format of a data source: given explicitly, or taken from the file extension. A PostgreSQL
 * source is snapshotted as CSV.
 */
export function sourceFormat(source: DataSource): 'csv' | 'jsonl' | 'parquet' {
  if (source.kind === 'postgres') return 'csv';
  if (source.format) return source.format;
  if (/\.parquet$/i.test(source.path)) return 'parquet';
  return /\.(jsonl|ndjson)$/i.test(source.path) ? 'jsonl' : 'csv';
}

/** The declared text encoding of a source (a PostgreSQL source's CSV is always UTF-8). */
export function sourceEncoding(source: DataSource): 'utf-8' | 'latin1' | undefined {
  return source.kind === 'postgres' ? undefined : source.encoding;
}

/** A source as a person names it: its path, or the PostgreSQL query and the variable with its URL. */
export function describeSource(source: DataSource): string {
  if (source.kind !== 'postgres') return source.path;
  const query = source.query.replace(/\s+/g, ' ').trim();
  return `PostgreSQL query (${source.urlEnv}) "${query.length > 80 ? `${query.slice(0, 77)}…` : query}"`;
}

/** A pipeline's drift settings. @throws InvalidInputError when it has none. */
export function requireDrift(pipeline: Pipeline): NonNullable<Pipeline['drift']> {
  if (!pipeline.drift)
    throw new InvalidInputError(`pipeline ${pipeline.name} has no drift settings (add drift: { … } to its definition)`, {
      model: pipeline.name,
      step: 'drift-check',
    });
  return pipeline.drift;
}
