import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetrainConfig } from '../lib/config';
import { InvalidInputError, TransientError, type ErrorContext } from '../lib/errors';
import { sourceFormat, type DataSource, type FileSource } from '../lib/pipeline';
import { isS3Url, parseS3Url } from '../lib/s3-url';
import { isDataPart, joinParts, type StreamedPart } from '../lib/source-parts';
import { createS3Client } from '../store/s3-client';
import { S3Store } from '../store/s3-store';
import { fetchPostgresSource, type SourceColumns, type SqlWindow } from './postgres-source';

/** Bytes read from disk at a time. */
const CHUNK = 1 << 20;

/** What a PostgreSQL source needs besides its definition: the columns to check, the window to apply. */
export interface FetchOptions {
  columns?: SourceColumns;
  window?: SqlWindow;
}

/**
 * Fetches data sources into a local file, streaming (memory holds a chunk, whatever the size): a
 * local file (relative to the project), an s3:// object, every data object under an s3:// prefix
 * (joined as one dataset, see joinParts), or a PostgreSQL query (as CSV, see fetchPostgresSource).
 * A source that is not there is bad input (not retried); a network or disk hiccup, or a part that
 * vanishes while read, is retried. Nothing is left at `out` when a fetch fails.
 */
export function sourceFetcher(config: Pick<RetrainConfig, 'projectDir' | 's3'>) {
  let client: S3Client | undefined;

  function localPart(path: string, name: string): Promise<StreamedPart> {
    return stat(path).then((s) => {
      if (!s.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
      return { name, size: s.size, chunks: () => createReadStream(path, { highWaterMark: CHUNK }) };
    });
  }

  async function fetchLocal(source: FileSource, what: string, context: ErrorContext, out: string): Promise<void> {
    const path = isAbsolute(source.path) ? source.path : resolve(config.projectDir, source.path);
    let part: StreamedPart;
    try {
      part = await localPart(path, `${what} ${path}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') throw new InvalidInputError(`${what} ${path} does not exist or is not a file`, context);
      throw err;
    }
    // Checked here, where the file is known by name: later steps see only the snapshot.
    await writeAll(joinParts([part], sourceFormat(source), context), out);
  }

  async function fetchS3(source: FileSource, what: string, context: ErrorContext, out: string): Promise<void> {
    const url = parseS3Url(source.path);
    if (!url.ok) throw new InvalidInputError(`${what}: ${url.error}`, context);
    client ??= createS3Client(config.s3);
    const bucket = new S3Store({ client, bucket: url.bucket, label: `${what} s3://${url.bucket}` });
    const format = sourceFormat(source);
    const work = await mkdtemp(join(tmpdir(), 'retrain-source-'));
    try {
      // One object when the key names one; otherwise every data object under it as a folder.
      if (url.key && (await bucket.exists(url.key))) {
        const path = join(work, 'part-0');
        await bucket.download(url.key, path);
        await writeAll(joinParts([await localPart(path, `${what} ${source.path}`)], format, context), out);
        return;
      }
      const keys = (await bucket.list(url.key ? `${url.key}/` : '')).filter(isDataPart);
      if (keys.length === 0)
        throw new InvalidInputError(`${what} ${source.path}: no object with that key and no data objects under it`, context);
      checkPrefixFormat(source, keys, what, context);
      const parts: StreamedPart[] = [];
      for (const [i, key] of keys.entries()) {
        const path = join(work, `part-${i}`);
        // Listed a moment ago: gone now means someone is rewriting the prefix; a retry sees the new set.
        if (!(await bucket.exists(key)))
          throw new TransientError(`${what} part s3://${url.bucket}/${key} disappeared while reading (the prefix is being rewritten)`);
        await bucket.download(key, path);
        parts.push(await localPart(path, `s3://${url.bucket}/${key}`));
      }
      await writeAll(joinParts(parts, format, context), out);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Writes the bytes of a source to `out`; `what` names it in errors ("data source of pipeline
   * churn"). A PostgreSQL source checks its result has `columns` (with numeric SQL types for
   * numeric features) before reading rows, and reads only the rows of `window`.
   */
  return function fetchSource(source: DataSource, what: string, context: ErrorContext, out: string, options: FetchOptions = {}) {
    if (source.kind === 'postgres') return fetchPostgresSource(source, what, context, out, options.columns, options.window);
    return isS3Url(source.path) ? fetchS3(source, what, context, out) : fetchLocal(source, what, context, out);
  };
}

/**
 * Reads a whole source into memory: for the small ones (a holdout file, a labels file, `retrain
 * validate`'s preview). Training data goes through {@link sourceFetcher}.
 */
export function sourceReader(config: Pick<RetrainConfig, 'projectDir' | 's3'>) {
  const fetchSource = sourceFetcher(config);
  return async function readSource(source: DataSource, what: string, context: ErrorContext, columns?: SourceColumns): Promise<Buffer> {
    const work = await mkdtemp(join(tmpdir(), 'retrain-source-'));
    try {
      const out = join(work, 'data');
      await fetchSource(source, what, context, out, { columns });
      return await readFile(out);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}

/**
 * A prefix has no extension to infer the format from: JSON-lines or Parquet parts read as CSV
 * would fail with a baffling parse error, so say what to write instead.
 */
function checkPrefixFormat(source: FileSource, keys: string[], what: string, context: ErrorContext): void {
  if (source.format || sourceFormat(source) !== 'csv') return;
  const parquet = keys.find((k) => /\.parquet$/i.test(k));
  if (parquet) {
    throw new InvalidInputError(
      `${what} ${source.path}: the objects under it are Parquet files (${parquet}…): add format: 'parquet' to the source`,
      context,
    );
  }
  if (keys.some((k) => /\.(jsonl|ndjson)$/i.test(k))) {
    throw new InvalidInputError(
      `${what} ${source.path}: the objects under it are JSON lines (${keys[0]}…): add format: 'jsonl' to the source`,
      context,
    );
  }
}

/** Writes a stream of chunks to a file; on failure the file is removed. */
export async function writeAll(chunks: AsyncIterable<Uint8Array>, out: string): Promise<void> {
  try {
    await pipeline(chunks, createWriteStream(out));
  } catch (err) {
    await rm(out, { force: true });
    throw err;
  }
}
