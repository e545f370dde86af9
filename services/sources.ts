import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetrainConfig } from '../lib/config';
import { InvalidInputError, TransientError, type ErrorContext } from '../lib/errors';
import { sourceFormat, type DataSource, type FileSource } from '../lib/pipeline';
import { isS3Url, parseS3Url } from '../lib/s3-url';
import { combineParts, isDataPart } from '../lib/source-parts';
import { createS3Client } from '../store/s3-client';
import { S3Store } from '../store/s3-store';
import { readPostgresSource, type SourceColumns } from './postgres-source';

type Source = FileSource;

/**
 * Reads data sources: a local file (relative to the project), an s3:// object, every data
 * object under an s3:// prefix, or a PostgreSQL query (as CSV, see readPostgresSource). A source that is not there is bad input (not retried); a
 * network or disk hiccup, or a part that vanishes while read, is retried.
 */
export function sourceReader(config: Pick<RetrainConfig, 'projectDir' | 's3'>) {
  let client: S3Client | undefined;

  async function readLocal(source: Source, what: string, context: ErrorContext): Promise<Buffer> {
    const path = isAbsolute(source.path) ? source.path : resolve(config.projectDir, source.path);
    try {
      const body = await readFile(path);
      // Checked here, where the file is known by name: later steps see only the snapshot.
      return sourceFormat(source) === 'parquet' ? combineParts([{ name: `${what} ${path}`, body }], 'parquet', context) : body;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') throw new InvalidInputError(`${what} ${path} does not exist or is not a file`, context);
      throw err;
    }
  }

  async function readS3(source: Source, what: string, context: ErrorContext): Promise<Buffer> {
    const url = parseS3Url(source.path);
    if (!url.ok) throw new InvalidInputError(`${what}: ${url.error}`, context);
    client ??= createS3Client(config.s3);
    const bucket = new S3Store({ client, bucket: url.bucket, label: `${what} s3://${url.bucket}` });
    // One object when the key names one; otherwise every data object under it as a folder.
    const single = url.key ? await bucket.get(url.key) : null;
    if (single) {
      if (sourceFormat(source) !== 'parquet') return single;
      return combineParts([{ name: `${what} ${source.path}`, body: single }], 'parquet', context);
    }
    const keys = (await bucket.list(url.key ? `${url.key}/` : '')).filter(isDataPart);
    if (keys.length === 0)
      throw new InvalidInputError(`${what} ${source.path}: no object with that key and no data objects under it`, context);
    const format = sourceFormat(source);
    // A prefix has no extension to infer the format from: JSON-lines or Parquet parts read as
    // CSV would fail with a baffling parse error, so say what to write instead.
    if (!source.format && format === 'csv') {
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
    const parts = [];
    for (const key of keys) {
      const body = await bucket.get(key);
      // Listed a moment ago: gone now means someone is rewriting the prefix; a retry sees the new set.
      if (!body)
        throw new TransientError(`${what} part s3://${url.bucket}/${key} disappeared while reading (the prefix is being rewritten)`);
      parts.push({ name: `s3://${url.bucket}/${key}`, body });
    }
    return combineParts(parts, format, context);
  }

  /**
   * The bytes of a source; `what` names it in errors ("data source of pipeline churn"). With
   * `columns`, a PostgreSQL source checks the result has them (with numeric SQL types for
   * numeric features) before reading its rows.
   */
  return function readSource(source: DataSource, what: string, context: ErrorContext, columns?: SourceColumns): Promise<Buffer> {
    if (source.kind === 'postgres') return readPostgresSource(source, what, context, columns);
    return isS3Url(source.path) ? readS3(source, what, context) : readLocal(source, what, context);
  };
}
