import type { Columns } from '../lib/drift/dataset-drift';
import type { FeatureKind } from '../lib/feature-kind';
import { keys } from '../lib/keys';
import {
  buildReferenceProfile,
  decodeFloat64,
  encodeFloat64,
  parseReferenceProfile,
  referenceColumns,
  type ReferenceProfile,
} from '../lib/reference-profile';
import type { Table } from '../lib/table';
import type { Store } from '../store/store';

type ProfileName = 'features' | 'prediction';

/**
 * Stores a reference profile with its model version. Same version, same data, same bytes: a
 * retried write changes nothing.
 */
export async function saveReferenceProfile(
  store: Store,
  opts: { model: string; version: string; name: ProfileName; table: Table; columns: { name: string; kind: FeatureKind }[] },
): Promise<ReferenceProfile> {
  const { profile, values } = buildReferenceProfile(opts);
  for (const [column, entry] of Object.entries(profile.columns)) {
    if (entry.kind === 'numeric')
      await store.put(keys.referenceValues(opts.model, opts.version, opts.name, entry.file), encodeFloat64(values[column]));
  }
  // The profile goes last: whoever finds it can rely on its value files being there.
  await store.put(keys.referenceProfile(opts.model, opts.version, opts.name), JSON.stringify(profile, null, 2));
  return profile;
}

/** A stored profile as drift-test columns, or null when the version has none. */
export async function loadReferenceColumns(
  store: Store,
  model: string,
  version: string,
  name: ProfileName,
): Promise<{ profile: ReferenceProfile; columns: Columns } | null> {
  const body = await store.get(keys.referenceProfile(model, version, name));
  if (!body) return null;
  const profile = parseReferenceProfile(body.toString());
  const values: Record<string, Float64Array> = {};
  for (const [column, entry] of Object.entries(profile.columns)) {
    if (entry.kind !== 'numeric') continue;
    const bytes = await store.get(keys.referenceValues(model, version, name, entry.file));
    if (!bytes) throw new Error(`reference values ${entry.file} of ${model} ${version} are missing from the store`);
    values[column] = decodeFloat64(bytes);
  }
  return { profile, columns: referenceColumns(profile, values) };
}
