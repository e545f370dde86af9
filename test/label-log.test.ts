import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateChurn, type ChurnRow } from '../examples/data/generators';
import { keys } from '../lib/keys';
import { labelLine, type LabelLine } from '../lib/label-log';
import type { PipelineInput } from '../lib/pipeline';
import { isoHour, type PredictionLine } from '../lib/prediction-log';
import type { ModelVersion } from '../lib/registry';
import { runDriftCheck, type DriftCheckLog } from '../services/drift-check';
import { readLabels } from '../services/label-log';
import { readPredictionsById } from '../services/prediction-log';
import { saveReferenceProfile } from '../services/reference-profiles';
import { LocalStore } from '../store/local-store';
import type { Store } from '../store/store';
import { testPipeline } from './helpers/pipelines';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

/** A local store that records the prefixes it was asked to list. */
function freshStore(): { store: Store; listed: string[] } {
  const inner = new LocalStore(tempDir('retrain-label-log-'));
  const listed: string[] = [];
  const store = Object.assign(Object.create(inner) as Store, {
    list: (prefix: string) => {
      listed.push(prefix);
      return inner.list(prefix);
    },
  });
  return { store, listed };
}

const RECEIVED = new Date('2024-05-01T12:00:00Z');

function label(id: string, value: string, knownAt: string, extra: Partial<LabelLine> = {}): LabelLine {
  return { ...labelLine({ model: 'churn', id, label: value, knownAt }, RECEIVED), ...extra };
}

let n = 0;
/** Writes one batch to the partition of its first line's knownAt hour, as the API does. */
async function writeLabels(store: Store, lines: (LabelLine | string)[], model = 'churn', hour?: string): Promise<string> {
  const first = lines.find((l): l is LabelLine => typeof l !== 'string');
  const key = keys.labelBatch(model, hour ?? isoHour(first!.knownAt), `batch-${String(++n).padStart(4, '0')}`);
  await store.put(key, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return key;
}

const window = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

describe('readLabels', () => {
  it('keeps from <= knownAt < to and lists only the partitions that overlap the window', async () => {
    const { store, listed } = freshStore();
    await writeLabels(store, [label('before', 'yes', '2024-05-01T09:59:59.999Z')]);
    await writeLabels(store, [label('first', 'yes', '2024-05-01T10:00:00.000Z'), label('middle', 'no', '2024-05-01T10:30:00Z')]);
    await writeLabels(store, [label('last', 'yes', '2024-05-01T11:59:59.999Z')]);
    await writeLabels(store, [label('after', 'no', '2024-05-01T12:00:00.000Z')]);
    // An offset: 12:15+02:00 is 10:15Z, stored under hour 10.
    await writeLabels(store, [label('offset', 'no', '2024-05-01T12:15:00+02:00')]);
    await writeLabels(store, [{ ...label('other-model', 'yes', '2024-05-01T10:15:00Z'), model: 'prices' }], 'prices');

    const got = await readLabels(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T12:00:00Z'));

    expect(Object.fromEntries(got.labels)).toEqual({ first: 'yes', middle: 'no', offset: 'no', last: 'yes' });
    expect(got.lines).toBe(4);
    expect(got.files).toBe(3);
    expect(got.invalidLines).toBe(0);
    expect(got.firstInvalid).toBeUndefined();
    expect(listed).toEqual(['labels/churn/2024-05-01/10/', 'labels/churn/2024-05-01/11/']);
  });

  it('lists a UTC day the window covers whole once, and hours at the ends', async () => {
    const { store, listed } = freshStore();
    await writeLabels(store, [label('a', 'yes', '2024-05-01T23:30:00Z')]);
    await writeLabels(store, [label('b', 'yes', '2024-05-02T13:00:00Z')]);
    await writeLabels(store, [label('c', 'yes', '2024-05-03T00:10:00Z')]);
    await writeLabels(store, [label('d', 'yes', '2024-05-03T01:00:00Z')]);

    const got = await readLabels(store, 'churn', window('2024-05-01T23:00:00Z', '2024-05-03T01:00:00Z'));

    expect([...got.labels.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(listed).toEqual(['labels/churn/2024-05-01/23/', 'labels/churn/2024-05-02/', 'labels/churn/2024-05-03/00/']);
  });

  it('keeps the label with the latest knownAt for an id, and on the same knownAt the later receivedAt', async () => {
    const { store } = freshStore();
    // Read first: the labels that win, then older ones that must not replace them.
    await writeLabels(store, [
      label('p1', 'yes', '2024-05-01T10:50:00Z'),
      label('p3', 'no', '2024-05-01T10:40:00Z'),
      label('p3', 'yes', '2024-05-01T10:20:00Z'),
    ]);
    await writeLabels(store, [label('p1', 'no', '2024-05-01T10:10:00Z')]);
    await writeLabels(store, [
      label('p2', 'yes', '2024-05-01T11:00:00Z', { receivedAt: '2024-05-01T12:05:00Z' }),
      label('p2', 'no', '2024-05-01T11:00:00Z', { receivedAt: '2024-05-01T12:00:00Z' }), // same knownAt, received earlier
    ]);
    // Instants are compared, not strings: 12:30+02:00 is 10:30Z, before 11:00Z.
    await writeLabels(store, [label('p4', 'newer', '2024-05-01T11:00:00Z'), label('p4', 'older', '2024-05-01T12:30:00+02:00')]);
    // A later correction is read last and wins.
    await writeLabels(store, [label('p5', 'no', '2024-05-01T10:05:00Z')]);
    await writeLabels(store, [label('p5', 'yes', '2024-05-01T11:45:00Z')]);

    const got = await readLabels(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T12:00:00Z'));

    expect(Object.fromEntries(got.labels)).toEqual({ p1: 'yes', p2: 'yes', p3: 'no', p4: 'newer', p5: 'yes' });
    expect(got.lines).toBe(10);
  });

  it('ignores a later correction that became known after the window', async () => {
    const { store } = freshStore();
    await writeLabels(store, [label('p1', 'no', '2024-05-01T10:10:00Z')]);
    await writeLabels(store, [label('p1', 'yes', '2024-05-01T12:10:00Z')]);

    const inWindow = await readLabels(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T12:00:00Z'));
    const later = await readLabels(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T13:00:00Z'));

    expect(inWindow.labels.get('p1')).toBe('no');
    expect(later.labels.get('p1')).toBe('yes');
  });

  it('counts invalid lines and describes the first one, never dropping them silently', async () => {
    const { store } = freshStore();
    const key = await writeLabels(
      store,
      [
        label('ok-1', 'yes', '2024-05-01T10:05:00Z'),
        '{not json',
        JSON.stringify({ ...label('bad', 'yes', '2024-05-01T10:05:00Z'), knownAt: 'yesterday' }),
        '',
        JSON.stringify({ model: 'churn', id: 'no-received', label: 'yes', knownAt: '2024-05-01T10:05:00Z' }),
        JSON.stringify({ ...label('extra', 'yes', '2024-05-01T10:05:00Z'), note: 'unknown field' }),
        JSON.stringify({ ...label('other', 'yes', '2024-05-01T10:05:00Z'), model: 'prices' }),
        label('ok-2', 'no', '2024-05-01T10:06:00Z'),
      ],
      'churn',
      '2024-05-01T10',
    );

    const got = await readLabels(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'));

    expect(Object.fromEntries(got.labels)).toEqual({ 'ok-1': 'yes', 'ok-2': 'no' });
    expect(got.lines).toBe(2);
    expect(got.invalidLines).toBe(5);
    expect(got.firstInvalid).toMatch(new RegExp(`^${key}:2: not valid JSON`));
  });

  it('refuses a window that ends before it starts', async () => {
    const { store } = freshStore();
    await expect(readLabels(store, 'churn', window('2024-05-01T11:00:00Z', '2024-05-01T10:00:00Z'))).rejects.toThrow(/from <= to/);
  });
});

// ---------------------------------------------------------------------------------------------
// Concept drift from the label log, through the drift-check service (no Temporal needed)
// ---------------------------------------------------------------------------------------------

const VERSION = 'v-champion';
const FROM = '2024-05-01T10:00:00.000Z';
const TO = '2024-05-01T11:00:00.000Z';
const BASELINE_ACCURACY = 0.8;
const FEATURES = ['tenure_months', 'monthly_spend', 'support_tickets', 'plan'] as const;

/** A store holding a champion `VERSION` as a promotion leaves it: reference profile, version record, holdout evaluation. */
async function championStore(model: string): Promise<Store> {
  const store = new LocalStore(tempDir('retrain-label-drift-'));
  const reference = generateChurn({ rows: 600, seed: 1, drift: 0 });
  await saveReferenceProfile(store, {
    model,
    version: VERSION,
    name: 'features',
    table: { columns: [...FEATURES], rows: reference.map((r) => FEATURES.map((f) => String(r[f]))) },
    columns: FEATURES.map((name) => ({ name, kind: name === 'plan' ? ('categorical' as const) : ('numeric' as const) })),
  });
  const record: Partial<ModelVersion> = { model, version: VERSION, task: 'classification', classes: ['no', 'yes'] };
  await store.put(keys.version(model, VERSION), JSON.stringify(record));
  await store.put(keys.evaluation(model, VERSION, null), JSON.stringify({ challenger: { accuracy: BASELINE_ACCURACY } }));
  return store;
}

/**
 * Logs `rows` as predictions "no" of `version` at `timestamp` (default 10:05, in the window), ids
 * `<prefix>-<customer_id>`, in the partition of that hour.
 */
async function logPredictions(
  store: Store,
  model: string,
  version: string,
  rows: ChurnRow[],
  prefix: string,
  timestamp = '2024-05-01T10:05:00.000Z',
): Promise<string[]> {
  const lines: PredictionLine[] = rows.map((r) => ({
    id: `${prefix}-${r.customer_id}`,
    timestamp,
    model,
    version,
    features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
    prediction: 'no',
    scores: { no: 0.75, yes: 0.25 },
    latencyMs: 5,
  }));
  await store.put(keys.predictionBatch(model, isoHour(timestamp), `pred-${prefix}`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return lines.map((l) => l.id);
}

/** Posts labels to the label log of `model` as the API stores them. */
async function postLabels(store: Store, model: string, ids: string[], value: string, knownAt: string): Promise<void> {
  const lines = ids.map((id) => labelLine({ model, id, label: value, knownAt }, new Date('2024-05-01T10:59:00Z')));
  await store.put(keys.labelBatch(model, isoHour(knownAt), `labels-${++n}`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

function pipelineFor(name: string, drift: PipelineInput['drift'] = {}, extra: Partial<PipelineInput> = {}) {
  return testPipeline({
    name,
    drift: { window: '1h', minPredictions: 30, maxMetricRegression: 0.05, ...drift },
    metrics: { primary: 'accuracy' },
    ...extra,
  });
}

function quietLog(): DriftCheckLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => void warnings.push(message) };
}

async function checkDrift(store: Store, pipeline: ReturnType<typeof pipelineFor>, log = quietLog()) {
  return runDriftCheck(
    {
      store,
      config: {
        projectDir: tempDir('retrain-label-project-'),
        s3: { region: 'us-east-1', forcePathStyle: false },
        python: 'python3',
        workDir: tempDir('retrain-label-work-'),
      },
    },
    { pipeline, version: VERSION, checkId: `check-${pipeline.name}`, from: FROM, to: TO },
    log,
  );
}

describe('concept drift from the label log', () => {
  it('joins logged labels to predictions of the champion by id and flags a regression, without drift.labels or idColumn', async () => {
    // No labels file and no id column: the label log joins by prediction id.
    const pipeline = pipelineFor('churn-log', {}, { idColumn: undefined });
    expect(pipeline.drift!.labels).toBeUndefined();
    const store = await championStore(pipeline.name);
    const ids = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 200, seed: 2, drift: 0 }), 'c');
    // Predictions of another version, labelled too: not the champion's performance.
    const others = await logPredictions(store, pipeline.name, 'v-old', generateChurn({ rows: 50, seed: 3, drift: 0 }), 'old');
    // The model said "no" for everyone; the ones labelled so far all churned.
    await postLabels(store, pipeline.name, [...ids.slice(0, 150), ...others], 'yes', '2024-05-01T10:40:00Z');
    // Known only after the check time: not part of this check.
    await postLabels(store, pipeline.name, ids.slice(150), 'no', '2024-05-01T11:30:00Z');
    await store.put(keys.labelBatch(pipeline.name, '2024-05-01T10', 'broken'), '{"model": "churn-log"\n');
    const log = quietLog();

    const { result, report } = await checkDrift(store, pipeline, log);

    expect(report.conceptDrift).toMatchObject({
      labelledRows: 150,
      metric: 'accuracy',
      baseline: BASELINE_ACCURACY,
      current: 0,
      drifted: true,
      sources: { file: 0, log: 150 },
    });
    expect(result.conceptDrifted).toBe(true);
    expect(result.drifted).toBe(true);
    expect(report.summary).toMatch(/accuracy is 0 against a baseline of 0.8, more than the allowed regression/);
    expect(log.warnings).toEqual(['1 invalid label-log lines left out']);
    const html = (await store.get(result.htmlKey))!.toString();
    expect(html).toContain('0 labelled by the labels file, 150 by the label log');
  });

  it('finds no concept drift when the logged labels agree with the predictions', async () => {
    const pipeline = pipelineFor('churn-log-agree');
    const store = await championStore(pipeline.name);
    const ids = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 100, seed: 4, drift: 0 }), 'c');
    await postLabels(store, pipeline.name, ids, 'no', '2024-05-01T10:20:00Z');

    const { result, report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toMatchObject({ labelledRows: 100, current: 1, drifted: false, sources: { file: 0, log: 100 } });
    expect(result.conceptDrifted).toBe(false);
  });

  it('has no concept drift section when neither a labels file nor the label log has labels', async () => {
    const pipeline = pipelineFor('churn-no-labels');
    const store = await championStore(pipeline.name);
    const ids = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 100, seed: 5, drift: 0 }), 'c');
    // Labels outside the window do not count as "the log has labels".
    await postLabels(store, pipeline.name, ids, 'yes', '2024-05-01T09:20:00Z');

    const { result, report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toBeNull();
    expect(result.conceptDrifted).toBe(false);
  });

  it('merges the labels file and the label log, the log winning for the same id', async () => {
    const labelsPath = join(tempDir('retrain-labels-file-'), 'labels.csv');
    const pipeline = pipelineFor('churn-both', { labels: { path: labelsPath } });
    const store = await championStore(pipeline.name);
    const ids = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 100, seed: 6, drift: 0 }), 'c');
    // The file agrees with every prediction; the log corrects 40 of them to "yes".
    writeFileSync(labelsPath, 'customer_id,churned\n' + ids.map((id) => `${id},no`).join('\n') + '\n');
    await postLabels(store, pipeline.name, ids.slice(0, 40), 'yes', '2024-05-01T10:50:00Z');

    const { result, report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toMatchObject({ labelledRows: 100, sources: { file: 60, log: 40 }, drifted: true });
    expect(report.conceptDrift!.current).toBeCloseTo(0.6, 12);
    expect(result.conceptDrifted).toBe(true);
  });

  it('keeps using the labels file alone when the label log is empty', async () => {
    const labelsPath = join(tempDir('retrain-labels-file-'), 'labels.csv');
    const pipeline = pipelineFor('churn-file', { labels: { path: labelsPath } });
    const store = await championStore(pipeline.name);
    const ids = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 100, seed: 7, drift: 0 }), 'c');
    writeFileSync(labelsPath, 'customer_id,churned\n' + ids.map((id) => `${id},no`).join('\n') + '\n');

    const { report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toMatchObject({ labelledRows: 100, current: 1, drifted: false, sources: { file: 100, log: 0 } });
  });
});

// ---------------------------------------------------------------------------------------------
// Labels that arrive long after the prediction (drift.labelDelay)
// ---------------------------------------------------------------------------------------------

/** 20 days before the window: a churn label known today for a prediction made then. */
const WEEKS_AGO = '2024-04-11T10:05:00.000Z';

describe('concept drift with drift.labelDelay', () => {
  it("defaults to 0s: a label known in the window is joined only to the window's predictions", () => {
    expect(pipelineFor('churn-delay-default').drift!.labelDelay).toBe('0s');
  });

  it('counts a label known today for a prediction made 20 days ago with labelDelay 30d, not with 0s', async () => {
    for (const [labelDelay, labelled] of [
      ['0s', 0],
      ['30d', 80],
    ] as const) {
      const pipeline = pipelineFor(`churn-delay-${labelDelay}`, { labelDelay });
      const store = await championStore(pipeline.name);
      // Today's traffic, not labelled yet; the predictions of 20 days ago are labelled today.
      await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 100, seed: 8, drift: 0 }), 'today');
      const old = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 80, seed: 9, drift: 0 }), 'old', WEEKS_AGO);
      await postLabels(store, pipeline.name, old, 'yes', '2024-05-01T10:40:00Z');

      const { result, report } = await checkDrift(store, pipeline);

      expect(report.conceptDrift).toMatchObject({ labelledRows: labelled, sources: { file: 0, log: labelled } });
      expect(result.conceptDrifted).toBe(labelled > 0);
      const predictionsFrom = labelDelay === '0s' ? FROM : '2024-04-01T10:00:00.000Z';
      expect(report.conceptDrift).toMatchObject({ labelsKnown: { from: FROM, to: TO }, predictionsFrom });
      if (labelled) {
        expect(report.conceptDrift).toMatchObject({ current: 0, drifted: true });
        const html = (await store.get(result.htmlKey))!.toString();
        expect(html).toContain(`Labels known ${FROM} → ${TO}, joined to predictions made ${predictionsFrom} → ${TO}`);
      } else {
        expect(report.conceptDrift!.note).toBe('no labelled rows match predictions of this version in the window');
      }
    }
  });

  it('joins only predictions made in [from - labelDelay, to)', async () => {
    const pipeline = pipelineFor('churn-delay-range', { labelDelay: '30d' });
    const store = await championStore(pipeline.name);
    const at = {
      tooEarly: '2024-04-01T09:59:59.999Z',
      first: '2024-04-01T10:00:00.000Z',
      inWindow: '2024-05-01T10:05:00.000Z',
      last: '2024-05-01T10:59:59.999Z',
      atTo: '2024-05-01T11:00:00.000Z',
    };
    const ids: Record<string, string[]> = {};
    let seed = 20;
    for (const [name, timestamp] of Object.entries(at))
      ids[name] = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 10, seed: seed++, drift: 0 }), name, timestamp);
    await postLabels(store, pipeline.name, Object.values(ids).flat(), 'no', '2024-05-01T10:30:00Z');

    const { report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toMatchObject({ labelledRows: 30, current: 1, drifted: false, predictionsFrom: at.first });
  });

  it('joins only predictions of the champion version', async () => {
    const pipeline = pipelineFor('churn-delay-versions', { labelDelay: '30d' });
    const store = await championStore(pipeline.name);
    const champion = await logPredictions(store, pipeline.name, VERSION, generateChurn({ rows: 60, seed: 30, drift: 0 }), 'c', WEEKS_AGO);
    const others = await logPredictions(store, pipeline.name, 'v-old', generateChurn({ rows: 40, seed: 31, drift: 0 }), 'o', WEEKS_AGO);
    // The champion's predictions ("no") are right; the other version's are labelled "yes".
    await postLabels(store, pipeline.name, champion, 'no', '2024-05-01T10:10:00Z');
    await postLabels(store, pipeline.name, others, 'yes', '2024-05-01T10:10:00Z');

    const { result, report } = await checkDrift(store, pipeline);

    expect(report.conceptDrift).toMatchObject({ labelledRows: 60, current: 1, drifted: false, sources: { file: 0, log: 60 } });
    expect(result.conceptDrifted).toBe(false);
  });
});

describe('readPredictionsById', () => {
  function prediction(id: string, timestamp: string, extra: Partial<PredictionLine> = {}): PredictionLine {
    return { id, timestamp, model: 'churn', version: VERSION, features: { plan: 'basic' }, prediction: 'no', latencyMs: 3, ...extra };
  }

  it('keeps only the lines of the wanted ids over a range of many predictions', async () => {
    const store = new LocalStore(tempDir('retrain-by-id-'));
    // 30 days, 4 hours a day, 50 predictions an hour: 6,000 lines, 10 of them labelled.
    let total = 0;
    for (let day = 1; day <= 30; day++)
      for (const hour of ['03', '09', '15', '21']) {
        const stamp = `2024-04-${String(day).padStart(2, '0')}T${hour}`;
        const lines = Array.from({ length: 50 }, (_, i) => prediction(`${stamp}-${i}`, `${stamp}:10:00.000Z`));
        total += lines.length;
        await store.put(keys.predictionBatch('churn', stamp, 'b'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      }
    const wanted = new Set(['2024-04-02T03-0', '2024-04-10T09-7', '2024-04-30T21-49', 'never-logged']);
    for (let day = 11; day <= 17; day++) wanted.add(`2024-04-${day}T15-${day}`);

    const got = await readPredictionsById(
      store,
      'churn',
      { from: new Date('2024-04-01T00:00:00Z'), to: new Date('2024-05-01T00:00:00Z') },
      wanted,
    );

    expect(got.scanned).toBe(total);
    expect(got.predictions.size).toBe(10);
    expect([...got.predictions.keys()].sort()).toEqual([...wanted].filter((id) => id !== 'never-logged').sort());
    expect(got.predictions.get('2024-04-10T09-7')).toEqual({ version: VERSION, prediction: 'no' });
    expect(got.invalidLines).toBe(0);
  });

  it('reads ids of lines in another field order or with escapes, keeps the last of a repeated id, and counts invalid lines', async () => {
    const store = new LocalStore(tempDir('retrain-by-id-'));
    const { id: _id, ...rest } = prediction('x', '2024-05-01T10:01:00.000Z');
    const lines = [
      JSON.stringify(prediction('dup', '2024-05-01T10:01:00.000Z', { version: 'v-old', prediction: 'yes' })),
      JSON.stringify({ ...rest, id: 'reordered' }), // id not first: parsed
      JSON.stringify(prediction('say "hi"', '2024-05-01T10:02:00.000Z')), // escaped quote in the id
      JSON.stringify(prediction('dup', '2024-05-01T10:03:00.000Z', { scores: { no: 0.9, yes: 0.1 } })), // read last: wins
      JSON.stringify(prediction('out-of-range', '2024-05-01T11:30:00.000Z')), // in the hour's batch, after `to`
      JSON.stringify({ ...prediction('wanted-bad', '2024-05-01T10:04:00.000Z'), latencyMs: -1 }),
      JSON.stringify({ ...prediction('unwanted-bad', '2024-05-01T10:04:00.000Z'), latencyMs: -1 }), // not validated
      JSON.stringify(prediction('other-model', '2024-05-01T10:04:00.000Z', { model: 'prices' })),
      '{not json',
    ];
    const key = keys.predictionBatch('churn', '2024-05-01T10', 'mixed');
    await store.put(key, lines.join('\n') + '\n');
    const wanted = new Set(['dup', 'reordered', 'say "hi"', 'out-of-range', 'wanted-bad', 'other-model']);

    const got = await readPredictionsById(
      store,
      'churn',
      { from: new Date('2024-05-01T10:00:00Z'), to: new Date('2024-05-01T11:00:00Z') },
      wanted,
    );

    expect(Object.fromEntries(got.predictions)).toEqual({
      dup: { version: VERSION, prediction: 'no', scores: { no: 0.9, yes: 0.1 } },
      reordered: { version: VERSION, prediction: 'no' },
      'say "hi"': { version: VERSION, prediction: 'no' },
    });
    expect(got.scanned).toBe(lines.length);
    expect(got.invalidLines).toBe(3);
    expect(got.firstInvalid).toMatch(new RegExp(`^${key}:6: invalid prediction line: latencyMs`));
  });

  it('reads nothing for no ids, and refuses a range that ends before it starts', async () => {
    const store = new LocalStore(tempDir('retrain-by-id-'));
    const range = { from: new Date('2024-05-01T10:00:00Z'), to: new Date('2024-05-01T11:00:00Z') };
    expect(await readPredictionsById(store, 'churn', range, new Set())).toMatchObject({ files: 0, scanned: 0 });
    await expect(readPredictionsById(store, 'churn', { from: range.to, to: range.from }, new Set(['a']))).rejects.toThrow(/from <= to/);
  });
});
