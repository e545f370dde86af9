import { hashOf } from '../lib/canonical-json';
import type { RetrainConfig } from '../lib/config';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import { versionIdFor, type ModelVersion } from '../lib/registry';
import type { DatasetSnapshot, DatasetSplit, TrainedModel, VersionPlan } from '../shared/results';
import type { Store } from '../store/store';
import { saveReferenceProfileOf } from './reference-profiles';
import { readPointer, readVersion, trainingCodeVersion } from './registry';

/**
 * Derives the version id from everything that shapes the model (data, split, features, params,
 * seed, command and a hash of the training code), and says whether it exists already, who is
 * champion, and whether this version was once rolled back.
 */
export async function planVersion(
  deps: { store: Store; config: Pick<RetrainConfig, 'python' | 'projectDir'> },
  input: { pipeline: Pipeline; snapshot: DatasetSnapshot; split: DatasetSplit },
): Promise<VersionPlan> {
  const { store, config } = deps;
  const { pipeline, snapshot, split } = input;
  const codeVersion = await trainingCodeVersion(pipeline.training.command, config.python, config.projectDir);
  const fingerprint = hashOf({
    dataset: snapshot.sha256,
    split: split.splitId,
    task: pipeline.task,
    label: pipeline.label,
    features: pipeline.features,
    params: pipeline.training.params,
    seed: pipeline.training.seed,
    command: pipeline.training.command,
    codeVersion,
  });
  const version = versionIdFor(fingerprint);
  const existing = (await store.exists(keys.version(pipeline.name, version))) ? await readVersion(store, pipeline.name, version) : null;
  const { pointer } = await readPointer(store, pipeline.name);
  const removal = [...pointer.history].reverse().find((h) => h.action === 'rollback' && h.from === version);
  return {
    version,
    fingerprint,
    trainingCodeVersion: codeVersion,
    existing,
    champion: pointer.champion,
    rolledBack: removal ? { at: removal.at, reason: removal.reason } : null,
  };
}

/** What registering a trained model needs: the plan, the data it came from, and the run that made it. */
export interface Registration {
  pipeline: Pipeline;
  plan: VersionPlan;
  snapshot: DatasetSnapshot;
  split: DatasetSplit;
  trained: TrainedModel;
  workflowId: string;
  runId: string;
}

/**
 * Writes the version record with its lineage once, and the reference profile that drift checks
 * compare against beside it (so a check never rereads raw training data). A retry finds the
 * record and returns it unchanged (`created: false`).
 */
export async function registerVersion(store: Store, input: Registration): Promise<{ version: ModelVersion; created: boolean }> {
  const { pipeline, plan, snapshot, split, trained } = input;
  const record: ModelVersion = {
    model: pipeline.name,
    version: plan.version,
    createdAt: new Date().toISOString(),
    task: pipeline.task,
    artifacts: trained.artifacts,
    classes: trained.classes,
    trainMetrics: trained.trainMetrics,
    lineage: {
      datasetSha256: snapshot.sha256,
      datasetKey: snapshot.key,
      trainKey: split.trainKey,
      holdoutKey: split.holdoutKey,
      rows: { train: split.trainRows, holdout: split.holdoutRows },
      features: pipeline.features,
      label: pipeline.label,
      params: pipeline.training.params,
      seed: pipeline.training.seed,
      trainingCommand: pipeline.training.command,
      trainingCodeVersion: plan.trainingCodeVersion,
      libraryVersions: trained.libraryVersions,
      workflowId: input.workflowId,
      runId: input.runId,
    },
  };
  if (!(await store.exists(split.trainKey))) throw new Error(`train split ${split.trainKey} is missing from the store (${store.location})`);
  await saveReferenceProfileOf(store, {
    model: pipeline.name,
    version: plan.version,
    name: 'features',
    key: split.trainKey,
    columns: pipeline.features.map((f) => ({ name: f.name, kind: f.type })),
  });
  const created = await store.putIfAbsent(keys.version(pipeline.name, plan.version), JSON.stringify(record, null, 2));
  return { version: created ? record : await readVersion(store, pipeline.name, plan.version), created };
}
