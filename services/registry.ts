import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { hashOf, sha256 } from '../lib/canonical-json';
import { NotFoundError } from '../lib/errors';
import { keys } from '../lib/keys';
import { emptyPointer, type ChampionPointer, type ModelVersion } from '../lib/registry';
import type { Store } from '../store/store';
import { forEachInOrder } from './log-batches';
import { expandCommand } from './runner/subprocess';

/**
 * Registry reads and writes over the store: the champion pointer (compare-and-swap), version
 * records and evaluations. The CLI, serving code and the activities all go through these.
 */

/** Reads the champion pointer (or an empty one) with its tag for compare-and-swap. */
export async function readPointer(store: Store, model: string): Promise<{ pointer: ChampionPointer; tag: string | null }> {
  const found = await store.getWithTag(keys.pointer(model));
  return found ? { pointer: JSON.parse(found.body.toString()), tag: found.tag } : { pointer: emptyPointer(model), tag: null };
}

/** A version record; fails with `NotFound` when the model has no such version. */
export async function readVersion(store: Store, model: string, version: string): Promise<ModelVersion> {
  const body = await store.get(keys.version(model, version));
  if (!body) throw new NotFoundError(`${model} has no version ${version}`, { model, version });
  return JSON.parse(body.toString());
}

/** Every registered version of a model, oldest first. */
export async function listVersions(store: Store, model: string): Promise<ModelVersion[]> {
  const versions = await readListed<ModelVersion>(store, await store.list(keys.versions(model)));
  return versions.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Moves the champion pointer by compare-and-swap, retrying only when the pointer moved under
 * us. `change` returns null when there is nothing to do (the change was already applied).
 */
export async function updatePointer(
  store: Store,
  model: string,
  change: (p: ChampionPointer) => ChampionPointer | null,
): Promise<{ pointer: ChampionPointer; applied: boolean }> {
  for (;;) {
    const { pointer, tag } = await readPointer(store, model);
    const next = change(pointer);
    if (!next) return { pointer, applied: false };
    if (await store.putIfMatch(keys.pointer(model), JSON.stringify(next, null, 2), tag)) return { pointer: next, applied: true };
  }
}

/** The version's `metric` on its holdout, as measured when it was evaluated; null if never evaluated. */
export async function holdoutBaseline(store: Store, model: string, version: string, metric: string): Promise<number | null> {
  return (await holdoutMetrics(store, model, version))[metric] ?? null;
}

/** Every holdout metric of a version's evaluation (empty when it has none). */
export async function holdoutMetrics(store: Store, model: string, version: string): Promise<Record<string, number | null>> {
  const [evaluation] = await readListed<{ challenger?: Record<string, number | null> }>(
    store,
    await store.list(keys.evaluationsOf(model, version)),
  );
  return evaluation?.challenger ?? {};
}

/**
 * Hash of the training code: every file the command names, plus its siblings of the same
 * kind (a script's helper modules), so changed code means a new version.
 */
export async function trainingCodeVersion(command: string[], python: string, projectDir: string): Promise<string> {
  const parts: Record<string, string> = {};
  for (const arg of expandCommand(command, python).slice(1)) {
    const path = isAbsolute(arg) ? arg : resolve(projectDir, arg);
    const isFile = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isFile) continue;
    const siblings = (await readdir(dirname(path))).filter((f) => extname(f) === extname(path)).sort();
    for (const file of siblings) parts[`${basename(dirname(path))}/${file}`] = sha256(await readFile(join(dirname(path), file)));
  }
  return `sha256:${hashOf({ command, parts }).slice(0, 16)}`;
}

/**
 * The JSON objects at `listed` keys, in order. An object deleted between the listing and the
 * read (retention, a cleanup) is left out, as if the listing had come a moment later. A few
 * reads at a time: twenty thousand at once (a long audit log) ran out of file descriptors.
 */
export async function readListed<T>(store: Store, listed: string[]): Promise<T[]> {
  const out: T[] = [];
  await forEachInOrder(
    listed,
    (k) => store.get(k),
    (_k, body) => {
      if (body) out.push(JSON.parse(body.toString()) as T);
    },
  );
  return out;
}
