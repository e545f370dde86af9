import { log } from '@temporalio/activity';
import type { AuditEvent } from '../lib/audit';
import { keys } from '../lib/keys';
import type { AlertArea } from '../lib/alert-message';
import type { AlertRoute, Pipeline } from '../lib/pipeline';
import { deliverAlert } from '../services/alert-delivery';
import { changeByEventId, type ChampionPointer, type ModelVersion } from '../lib/registry';
import type { NewAuditEvent } from '../services/audit-log';
import { promote, rollback, type ChampionChange } from '../services/champion';
import { readPointer } from '../services/registry';
import { planVersion, registerVersion, type Registration } from '../services/versions';
import type { DatasetSnapshot, DatasetSplit, VersionPlan } from '../shared/results';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';

/** The registry steps on the `retrain` queue: plan, register, promote, roll back, audit, notify. */
export function registryActivities({ store, config }: ActivityDeps) {
  return {
    /** Derives the version id from everything that shapes the model; finds it if it already exists. */
    async planVersion(input: { pipeline: Pipeline; snapshot: DatasetSnapshot; split: DatasetSplit }): Promise<VersionPlan> {
      return step('plan', { model: input.pipeline.name }, () => planVersion({ store, config }, input));
    },

    /** Writes the version record once; a retry finds it and returns it unchanged. */
    async registerVersion(input: Registration): Promise<ModelVersion> {
      const { pipeline, plan } = input;
      return step('register', { model: pipeline.name, version: plan.version }, async () => {
        const { version, created } = await registerVersion(store, input);
        await writeAudit(store, {
          type: 'registration',
          model: pipeline.name,
          version: plan.version,
          outcome: created ? 'ok' : 'skipped',
          summary: created ? `registered ${plan.version}` : `${plan.version} was already registered`,
          details: { lineage: version.lineage },
        });
        return version;
      });
    },

    /** Makes `version` the champion if the champion is still `expectedChampion`. */
    async promoteChampion(input: ChampionChange & { version: string; expectedChampion: string | null }): Promise<ChampionPointer> {
      return step('promote', { model: input.model, version: input.version }, async () => {
        const { pointer, applied } = await promote(store, input);
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
    async rollbackChampion(input: Parameters<typeof rollback>[1]): Promise<ChampionPointer> {
      return step('rollback', { model: input.model, version: input.to ?? null }, async () => {
        const { pointer, applied } = await rollback(store, input);
        // The change this request made (or made on an earlier attempt): found by its event id, never "the last one".
        const change = changeByEventId(pointer, input.eventId) ?? {
          from: input.expectedChampion ?? null,
          to: pointer.champion,
        };
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
    async recordAudit(input: NewAuditEvent): Promise<AuditEvent> {
      return step(`audit-${input.type}`, { model: input.model, version: input.version }, () => writeAudit(store, input));
    },

    /**
     * Tells a pipeline's owner about something that needs a person (a rollback, a rejection).
     * Written to the store and the log; delivery channels plug in here.
     */
    async notifyOwner(input: {
      model: string;
      owner: string;
      severity: 'info' | 'warning' | 'critical';
      subject: string;
      message: string;
      version: string | null;
      /** The area's alert routes (pipeline.alerts); none: the audit log, the alerts/ record and a log line. */
      routes?: AlertRoute[];
      area?: AlertArea;
    }): Promise<void> {
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
        const area = input.area ?? 'retraining';
        const json = {
          kind: 'retrain.owner-alert/v1',
          id: event.id,
          model: input.model,
          version: input.version,
          area,
          owner: input.owner,
          severity: input.severity,
          subject: input.subject,
          message: input.message,
        };
        const headline = { ...json, lines: [input.message] };
        // The audit event's id is the same on every attempt: each route gets the alert once.
        await deliverAlert(
          store,
          { alertId: event.id, routes: input.routes ?? [], headline, json },
          {
            secret: config.webhookSecret,
            context: { model: input.model, version: input.version ?? undefined, step: 'notify' },
          },
        );
        log.warn(`alert to ${input.owner}: ${input.subject}`, {
          model: input.model,
          version: input.version,
          severity: input.severity,
          alert: input.message,
        });
      });
    },
  };
}
