import { log } from '@temporalio/activity';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { sortEvents, type AuditEvent, type AuditEventType } from '../lib/audit';
import { hashOf, sha256 } from '../lib/canonical-json';
import { NotFoundError, RegistryConflictError } from '../lib/errors';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import { applyPromotion, applyRollback, emptyPointer, versionIdFor, type ChampionPointer, type ModelVersion } from '../lib/registry';
import { parseTable } from '../lib/table';
import type { Store } from '../store/store';
import type { DatasetSnapshot, DatasetSplit } from './data';
import { saveReferenceProfile } from './reference';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';
import { expandCommand } from './subprocess';
import type { TrainedModel } from './training';

export interface VersionPlan {
  version: string;
  fingerprint: string;
  trainingCodeVersion: string;
  /** The version record when these exact inputs were trained before. */
  existing: ModelVersion | null;
  champion: string | null;
  /** When this version was once rolled back: a rerun must not quietly promote it again. */
  rolledBack: { at: string; reason: string } | null;
}

/** Reads the champion pointer (or an empty one) with its tag for compare-and-swap. */
export async function readPointer(store: Store, model: string): Promise<{ pointer: ChampionPointer; tag: string | null }> {
  const found = await store.getWithTag(keys.pointer(model));
  return found ? { pointer: JSON.parse(found.body.toString()), tag: found.tag } : { pointer: emptyPointer(model), tag: null };
}

export async function readVersion(store: Store, model: string, version: string): Promise<ModelVersion> {
  const body = await store.get(keys.version(model, version));
  if (!body) throw new NotFoundError(`${model} has no version ${version}`, { model, version });
  return JSON.parse(body.toString());
}

export async function listVersions(store: Store, model: string): Promise<ModelVersion[]> {
  const versionKeys = await store.list(keys.versions(model));
  const versions = await Promise.all(versionKeys.map(async (k) => JSON.parse((await store.get(k))!.toString()) as ModelVersion));
  return versions.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function listAudit(store: Store, model: string): Promise<AuditEvent[]> {
  const eventKeys = await store.list(keys.audit(model));
  return sortEvents(await Promise.all(eventKeys.map(async (k) => JSON.parse((await store.get(k))!.toString()) as AuditEvent)));
}

/**
 * Hash of the training code: every file the command names, plus its siblings of the same
 * kind (a script's helper modules), so changed code means a new version.
 */
export async function trainingCodeVersion(command: string[], python: string, projectDir: string): Promise<string> {
  const parts: Record<string, string> = {};
  for (const arg of expandCommand(command, python).slice(1)) {
    const path = isAbsolute(arg) ? arg : resolve(projectDir, arg);
    const isFile = await stat(path).then((s) => s.isFile(), () => false);
    if (!isFile) continue;
    const siblings = (await readdir(dirname(path))).filter((f) => extname(f) === extname(path)).sort();
    for (const file of siblings) parts[`${basename(dirname(path))}/${file}`] = sha256(await readFile(join(dirname(path), file)));
  }
  return `sha256:${hashOf({ command, parts }).slice(0, 16)}`;
}

/** Moves the champion pointer by compare-and-swap, retrying only when the pointer moved under us. */
async function updatePointer(store: Store, model: string, change: (p: ChampionPointer) => ChampionPointer | null): Promise<{ pointer: ChampionPointer; applied: boolean }> {
  for (;;) {
    const { pointer, tag } = await readPointer(store, model);
    const next = change(pointer);
    if (!next) return { pointer, applied: false };
    if (await store.putIfMatch(keys.pointer(model), JSON.stringify(next, null, 2), tag)) return { pointer: next, applied: true };
  }
}

export function registryActivities({ store, config }: ActivityDeps) {
  return {
    /** Derives the version id from everything that shapes the model; finds it if it already exists. */
    async planVersion(input: { pipeline: Pipeline; snapshot: DatasetSnapshot; split: DatasetSplit }): Promise<VersionPlan> {
      const { pipeline, snapshot, split } = input;
      return step('plan', { model: pipeline.name }, async () => {
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
      });
    },

    /** Writes the version record once; a retry finds it and returns it unchanged. */
    async registerVersion(input: {
      pipeline: Pipeline;
      plan: VersionPlan;
      snapshot: DatasetSnapshot;
      split: DatasetSplit;
      trained: TrainedModel;
      workflowId: string;
      runId: string;
    }): Promise<ModelVersion> {
      const { pipeline, plan, snapshot, split, trained } = input;
      return step('register', { model: pipeline.name, version: plan.version }, async () => {
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
        // The reference that drift checks compare against is kept with the version, so a check
        // never rereads raw training data.
        const train = await store.get(split.trainKey);
        if (!train) throw new Error(`train split ${split.trainKey} is missing from the store (${store.location})`);
        await saveReferenceProfile(store, {
          model: pipeline.name,
          version: plan.version,
          name: 'features',
          table: parseTable(train, 'csv', 'train split'),
          columns: pipeline.features.map((f) => ({ name: f.name, kind: f.type === 'numeric' ? 'numerical' : 'categorical' })),
        });
        const created = await store.putIfAbsent(keys.version(pipeline.name, plan.version), JSON.stringify(record, null, 2));
        const stored = created ? record : await readVersion(store, pipeline.name, plan.version);
        await writeAudit(store, {
          type: 'registration',
          model: pipeline.name,
          version: plan.version,
          outcome: created ? 'ok' : 'skipped',
          summary: created ? `registered ${plan.version}` : `${plan.version} was already registered`,
          details: { lineage: stored.lineage },
        });
        return stored;
      });
    },

    /** Makes `version` the champion if the champion is still `expectedChampion`. */
    async promoteChampion(input: { model: string; version: string; expectedChampion: string | null; reason: string; actor: string; eventId: string }): Promise<ChampionPointer> {
      return step('promote', { model: input.model, version: input.version }, async () => {
        const { pointer, applied } = await updatePointer(store, input.model, (p) =>
          applyPromotion(p, { to: input.version, expectedChampion: input.expectedChampion, at: new Date().toISOString(), reason: input.reason, actor: input.actor, eventId: input.eventId }),
        );
        await writeAudit(store, {
          type: 'promotion',
          model: input.model,
          version: input.version,
          outcome: 'ok',
          summary: `promoted ${input.version} (previous champion: ${input.expectedChampion ?? 'none'})`,
          details: { reason: input.reason, previous: input.expectedChampion, alreadyApplied: !applied },
        });
        return pointer;
      });
    },

    /** Rolls the champion back to `to` (default: the previous champion), audited. */
    async rollbackChampion(input: {
      model: string;
      to?: string;
      expectedChampion?: string | null;
      /** Withdraw a first champion when there is nothing to roll back to (automatic rollback). */
      allowNoChampion?: boolean;
      reason: string;
      actor: string;
      eventId: string;
    }): Promise<ChampionPointer> {
      return step('rollback', { model: input.model, version: input.to ?? null }, async () => {
        if (input.to) await readVersion(store, input.model, input.to); // fails clearly for an unknown version
        const { pointer, applied } = await updatePointer(store, input.model, (p) =>
          applyRollback(p, { to: input.to, expectedChampion: input.expectedChampion, allowNoChampion: input.allowNoChampion, at: new Date().toISOString(), reason: input.reason, actor: input.actor, eventId: input.eventId }),
        );
        const change = pointer.history.find((h) => h.eventId === input.eventId)!;
        await writeAudit(store, {
          type: 'rollback',
          model: input.model,
          version: pointer.champion,
          outcome: 'ok',
          summary: `rolled back from ${change.from ?? 'none'} to ${change.to ?? 'no champion'}: ${input.reason}`,
          details: { from: change.from, to: change.to, reason: input.reason, actor: input.actor, alreadyApplied: !applied },
        });
        return pointer;
      });
    },

    /** The champion pointer as it is now. */
    async getChampion(input: { model: string }): Promise<ChampionPointer> {
      return (await readPointer(store, input.model)).pointer;
    },

    /** Records an event the workflow decided (gate decision, approval). */
    async recordAudit(input: { type: AuditEventType; model: string; version: string | null; outcome: AuditEvent['outcome']; summary: string; details?: Record<string, unknown> }): Promise<AuditEvent> {
      return step(`audit-${input.type}`, { model: input.model, version: input.version }, () => writeAudit(store, input));
    },

    /**
     * Tells a pipeline's owner about something that needs a person (a rollback, a rejection).
     * Written to the store and the log; delivery channels plug in here.
     */
    async notifyOwner(input: { model: string; owner: string; severity: 'info' | 'warning' | 'critical'; subject: string; message: string; version: string | null }): Promise<void> {
      return step('notify', { model: input.model, version: input.version }, async () => {
        const event = await writeAudit(store, {
          type: 'alert',
          model: input.model,
          version: input.version,
          outcome: 'ok',
          summary: `${input.severity}: ${input.subject} (to ${input.owner})`,
          details: { owner: input.owner, severity: input.severity, message: input.message },
        });
        await store.putIfAbsent(keys.alert(input.model, event.id), JSON.stringify(event, null, 2));
        log.warn(`alert to ${input.owner}: ${input.subject}`, { model: input.model, version: input.version, severity: input.severity, alert: input.message });
      });
    },
  };
}

export { RegistryConflictError };
