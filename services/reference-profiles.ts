import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Columns } from '../lib/drift/dataset-drift';
import type { FeatureKind } from '../lib/feature-kind';
import { keys } from '../lib/keys';
import {
  buildReferenceProfile,
  decodeFloat64,
  encodeFloat64,
  parseReferenceProfile,
  referenceColumns,
  ReferenceProfileBuilder,
  type ReferenceProfile,
} from '../lib/reference-profile';
import type { Table } from '../lib/table';
import type { Store } from '../store/store';
import { rowBatches } from './dataset-rows';

type ProfileName = 'features' | 'prediction';

/**
 * Stores a reference profile with its model version. Same version, same data, same bytes: a
 * retried write changes nothing.
 */
export async function saveReferenceProfile(
  store: Store,
  opts: { model: string; version: string; name: ProfileName; table: Table; columns: { name: string; kind: FeatureKind }[] },
): Promise<ReferenceProfile> {
  return storeReferenceProfile(store, opts, buildReferenceProfile(opts));
}

/**
 * Profiles the rows of a stored CSV (the train split), streaming, and stores the profile: the
 * training data is never held in memory.
 */
export async function saveReferenceProfileOf(
  store: Store,
  opts: { model: string; version: string; name: ProfileName; key: string; columns: { name: string; kind: FeatureKind }[] },
): Promise<ReferenceProfile> {
  const builder = new ReferenceProfileBuilder(opts);
  const work = await mkdtemp(join(tmpdir(), 'retrain-profile-'));
  try {
    const path = join(work, 'data.csv');
    await store.download(opts.key, path);
    for await (const batch of rowBatches({ path }, 'csv', opts.key)) builder.add(batch);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return storeReferenceProfile(store, opts, builder.finish());
}

async function storeReferenceProfile(
  store: Store,
  opts: { model: string; version: string; name: ProfileName },
  { profile, values }: { profile: ReferenceProfile; values: Record<string, Float64Array> },
): Promise<ReferenceProfile> {
  for (const [column, entry] of Object.entries(profile.columns)) {
    if (entry.kind === 'numeric')
      await store.put(keys.referenceValues(opts.model, opts.version, opts.name, entry.file), encodeFloat64(values[column]));
  }
  // The profile goes last: whoever finds it can rely on its value files being there.
  await store.put(keys.referenceProfile(opts.model, opts.version, opts.name), JSON.stringify(profile, null, 2));
  return profile;
}

/**
 * A stored profile as drift-test columns, or null when the version has none. Numeric values come
 * ascending: as stored (profiles record `sorted: true`), or sorted here for a profile stored
 * before they were kept sorted (see referenceColumns).
 */
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
