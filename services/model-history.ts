import { auditEntry, type AuditEntry } from '../lib/console/audit-entry';
import { driftHistoryEntry, type DriftHistoryEntry } from '../lib/console/drift-history';
import type { AuditEvent } from '../lib/audit';
import type { DriftCheckReport } from '../lib/drift/report';
import { keys } from '../lib/keys';
import type { ModelVersion } from '../lib/registry';
import type { Evaluation } from '../shared/results';
import type { Store } from '../store/store';
import { readListingIndex } from './listing-index';
import { readListed } from './registry';

/**
 * A model's whole history as the console shows it (every version with its holdout metrics, every
 * audit event, every drift check), read through precomputed indexes (services/listing-index.ts)
 * so a page over a thousand versions and ten thousand checks does not read them all each time.
 */

/** One version as the console lists it: when, on what data, and its holdout metrics. */
export interface VersionEntry {
  version: string;
  createdAt: string;
  datasetSha256: string;
  rows: { train: number; holdout: number };
  params: Record<string, unknown>;
  trainingCodeVersion: string;
  /** Its holdout metrics, from its first evaluation (null before it was evaluated). */
  holdout: Record<string, number | null> | null;
  /** The champion it was evaluated against, and that champion's metrics on the same holdout. */
  against: { version: string; metrics: Record<string, number | null> } | null;
}

type RegistryEntry =
  | { kind: 'version'; version: Omit<VersionEntry, 'holdout' | 'against'> }
  | {
      kind: 'evaluation';
      challenger: string;
      championVersion: string | null;
      challengerMetrics: Evaluation['challenger'];
      championMetrics: Evaluation['champion'];
    };

const json = <T>(body: Buffer): T => JSON.parse(body.toString('utf8')) as T;

/** Every version of a model, oldest first, each with its holdout metrics. */
export async function versionHistory(store: Store, model: string): Promise<VersionEntry[]> {
  const versionsPrefix = keys.versions(model);
  const evaluationsPrefix = keys.evaluations(model);
  const { entries } = await readListingIndex<RegistryEntry>(store, {
    prefix: `registry/${model}/`,
    accept: (k) => k.endsWith('.json') && (k.startsWith(versionsPrefix) || k.startsWith(evaluationsPrefix)),
    indexKey: keys.listingIndex(model, 'versions'),
    format: 1,
    derive: (key, body) => {
      if (key.startsWith(versionsPrefix)) {
        const v = json<ModelVersion>(body);
        return {
          kind: 'version',
          version: {
            version: v.version,
            createdAt: v.createdAt,
            datasetSha256: v.lineage.datasetSha256,
            rows: v.lineage.rows,
            params: v.lineage.params,
            trainingCodeVersion: v.lineage.trainingCodeVersion,
          },
        };
      }
      const e = json<Evaluation>(body);
      const challenger = key.slice(evaluationsPrefix.length).replace(/-vs-[^/]*\.json$/, '');
      return {
        kind: 'evaluation',
        challenger,
        championVersion: e.championVersion,
        challengerMetrics: e.challenger,
        championMetrics: e.champion,
      };
    },
  });
  const evaluations = new Map<string, Extract<RegistryEntry, { kind: 'evaluation' }>>();
  const versions: VersionEntry[] = [];
  for (const entry of entries.values()) {
    if (entry.kind === 'evaluation' && !evaluations.has(entry.challenger)) evaluations.set(entry.challenger, entry);
  }
  for (const entry of entries.values()) {
    if (entry.kind !== 'version') continue;
    const e = evaluations.get(entry.version.version);
    versions.push({
      ...entry.version,
      holdout: e ? (e.challengerMetrics as Record<string, number | null>) : null,
      against:
        e && e.championVersion && e.championMetrics
          ? { version: e.championVersion, metrics: e.championMetrics as Record<string, number | null> }
          : null,
    });
  }
  return versions.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.version.localeCompare(b.version));
}

/** Every audit event of a model (without details), oldest first. */
export async function auditHistory(store: Store, model: string): Promise<AuditEntry[]> {
  const { entries } = await readListingIndex<AuditEntry>(store, {
    prefix: keys.audit(model),
    accept: (k) => k.endsWith('.json'),
    indexKey: keys.listingIndex(model, 'audit'),
    format: 1,
    derive: (_key, body) => auditEntry(json<AuditEvent>(body)),
  });
  return [...entries.values()].sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}

/** Every drift check of a model, oldest first. */
export async function driftHistory(store: Store, model: string): Promise<DriftHistoryEntry[]> {
  const { entries } = await readListingIndex<DriftHistoryEntry>(store, {
    prefix: keys.driftReports(model),
    accept: (k) => k.endsWith('.json'),
    indexKey: keys.listingIndex(model, 'drift'),
    format: 1,
    derive: (key, body) => {
      const report = json<DriftCheckReport>(body);
      return report.kind === 'retrain.drift-report/v1' ? driftHistoryEntry(report, key) : null;
    },
  });
  return [...entries.values()].sort((a, b) => a.at.localeCompare(b.at) || a.checkId.localeCompare(b.checkId));
}

/** The full audit events (details included) of one version, oldest first: read by id from the index, not by listing all. */
export async function auditOfVersion(store: Store, model: string, version: string): Promise<AuditEvent[]> {
  const ofVersion = (await auditHistory(store, model)).filter((e) => e.version === version);
  return readListed<AuditEvent>(
    store,
    ofVersion.map((e) => keys.auditEvent(model, e.id)),
  );
}
