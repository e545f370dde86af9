import { log } from '@temporalio/activity';
import type { AuditEvent, AuditEventType } from '../lib/audit';
import { hashOf } from '../lib/canonical-json';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import { applyPromotion, applyRollback, versionIdFor, type ChampionPointer, type ModelVersion } from '../lib/registry';
import { parseTable } from '../lib/table';
import { saveReferenceProfile } from '../services/reference-profiles';
import { readPointer, readVersion, trainingCodeVersion, updatePointer } from '../services/registry';
import type { DatasetSnapshot, DatasetSplit, TrainedModel, VersionPlan } from '../shared/results';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';

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
          columns: pipeline.features.map((f) => ({ name: f.name, kind: f.type })),
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
        // The change this request made (or made on an earlier attempt): found by its event id, never "the last one".
        const change = pointer.history.find((h) => h.eventId === input.eventId) ?? { from: input.expectedChampion ?? null, to: pointer.champion };
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

