import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ErrorType, RetrainError } from '../lib/errors';
import { checkKey, checkPrefix, type Store } from './store';

/** A bucket (and optional key prefix) to use as a store, through an S3 client. */
export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder inside the bucket that holds this store's objects ('' or omitted: the whole bucket). */
  prefix?: string;
  /**
   * What the bucket is to the user, for error messages.
   * @default "S3 store s3://bucket/prefix"
   */
  label?: string;
}

/**
 * Error names that no retry can fix: the bucket, the endpoint or the credentials are wrong.
 * They become a non-retryable `StoreMisconfigured` error so a workflow fails at once with a
 * message a person can act on, instead of retrying for hours.
 */
const MISCONFIGURED: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it, or fix the bucket name',
  InvalidAccessKeyId: 'the access key id is not known to the server: fix the credentials (AWS_ACCESS_KEY_ID / profile)',
  SignatureDoesNotMatch: 'the secret access key does not match the access key id: fix the credentials',
  AccessDenied: 'the credentials may not use this bucket: grant them access, or use other credentials',
  // HEAD responses have no body, so S3 cannot say more than the status.
  Forbidden: 'access was refused (HTTP 403): check the credentials and their permissions on the bucket',
};

/** How long `putIfAbsent`/`putIfMatch` keep retrying a 409 ConditionalRequestConflict. */
const CONFLICT_RETRIES = 8;

/**
 * A store in an S3 bucket (AWS S3 or an S3-compatible server such as MinIO). Keys map to
 * `<prefix>/<key>`. PutObject is atomic, so `put` needs no temporary object; create-once and
 * compare-and-swap use S3 conditional writes (`If-None-Match: *`, `If-Match: <etag>`), which
 * the server checks, so concurrent writers on different machines cannot both win.
 */
export class S3Store implements Store {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly label: string;

  constructor(opts: S3StoreOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    // Without surrounding slashes, so joining never produces "//" (a different S3 key).
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.label = opts.label ?? `S3 store ${this.location}`;
  }

  get location(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** The S3 object key of a store key. */
  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async get(key: string): Promise<Buffer | null> {
    return (await this.getWithTag(key))?.body ?? null;
  }

  async getWithTag(key: string): Promise<{ body: Buffer; tag: string } | null> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = await res.Body!.transformToByteArray();
      // A view, not a copy: the SDK has already joined the chunks into one array.
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // The ETag comes with the same response as the bytes, so it is the tag of exactly these
      // bytes even if someone writes in between.
      return { body, tag: res.ETag! };
    } catch (err) {
      if (isNoSuchKey(err)) return null;
      throw await this.translate(err, 'GetObject', Key);
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.putObject(this.objectKey(key), body, {});
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    return this.conditionalPut(this.objectKey(key), body, { IfNoneMatch: '*' });
  }

  async putIfMatch(key: string, body: Buffer | string, tag: string | null): Promise<boolean> {
    const condition = tag === null ? { IfNoneMatch: '*' } : { IfMatch: tag };
    return this.conditionalPut(this.objectKey(key), body, condition);
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (err) {
      // HEAD has no error body: a missing key and a missing bucket are both a bare 404 here.
      // A missing bucket is caught by every other call, which does get an error code.
      if (isNoSuchKey(err)) return false;
      throw await this.translate(err, 'HeadObject', Key);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      // S3 answers 204 whether or not the key existed.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      throw await this.translate(err, 'DeleteObject', Key);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = this.prefix ? `${this.prefix}/${checkPrefix(prefix)}` : checkPrefix(prefix);
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken }));
      } catch (err) {
        throw await this.translate(err, 'ListObjectsV2', full);
      }
      for (const obj of page.Contents ?? []) {
        if (obj.Key) keys.push(this.prefix ? obj.Key.slice(this.prefix.length + 1) : obj.Key);
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    // S3 already lists in UTF-8 byte order; sorting again gives the same order as LocalStore
    // (JS string order), which differs for characters outside the BMP.
    return keys.sort();
  }

  async upload(localPath: string, key: string): Promise<void> {
    const Key = this.objectKey(key);
    // lib-storage switches to a multipart upload for large files and never holds the whole
    // file in memory; the object appears only when the upload completes, so it stays atomic.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: createReadStream(localPath) },
      leavePartsOnError: false,
      // 16 MiB parts, 4 in flight: memory stays near 64 MiB whatever the size; a third of the
      // requests of the 5 MiB default (S3 bills per request), less signing and checksum work,
      // and up to 156 GiB within S3's 10,000-part limit (bench/README.md, s3-transfer).
      partSize: 16 * 1024 * 1024,
      queueSize: 4,
    });
    try {
      await upload.done();
    } catch (err) {
      throw await this.translate(err, 'Upload', Key);
    }
  }

  async download(key: string, localPath: string): Promise<void> {
    const Key = this.objectKey(key);
    await mkdir(dirname(localPath), { recursive: true });
    // Through a temporary file: a missing key or a broken connection must not leave an empty
    // or partial file at localPath that a later step would take for the artefact.
    const tmp = join(dirname(localPath), `.tmp-${randomUUID()}-${basename(localPath)}`);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      await pipeline(res.Body as Readable, createWriteStream(tmp));
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw await this.translate(err, 'GetObject', Key);
    }
  }

  /** PutObject, with S3 errors translated. */
  private async putObject(Key: string, body: Buffer | string, condition: { IfNoneMatch?: string; IfMatch?: string }): Promise<void> {
    try {
      // An explicit length: without it the SDK cannot tell an empty body from a stream of
      // unknown length and warns on every empty put.
      const ContentLength = Buffer.byteLength(body);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength, ...condition }));
    } catch (err) {
      // Conditional failures are answers, not errors: the caller branches on them.
      if (isPreconditionFailed(err) || isConditionalConflict(err)) throw err;
      throw await this.translate(err, 'PutObject', Key);
    }
  }

  /**
   * A conditional PutObject. 412 means the condition did not hold (someone else wrote
   * first): false. 409 means another conditional write to the same key was in flight and
   * the server could not decide ours yet: AWS documents retrying it, so we do, briefly.
   */
  private async conditionalPut(
    Key: string,
    body: Buffer | string,
    condition: { IfNoneMatch?: string; IfMatch?: string },
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.putObject(Key, body, condition);
        return true;
      } catch (err) {
        if (isPreconditionFailed(err)) return false;
        // With If-Match, a missing object is a 404 NoSuchKey on AWS (not 412): the tag no
        // longer matches anything, so the answer is the same.
        if (condition.IfMatch && isNoSuchKey(err)) return false;
        if (!isConditionalConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
        await sleep(Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * Turns configuration errors into a non-retryable StoreMisconfigured that names the bucket
   * and endpoint and says what to fix. Everything else (network errors, 5xx) is returned as
   * it is: ordinary errors, which Temporal retries.
   */
  private async translate(err: unknown, operation: string, key: string): Promise<unknown> {
    // A 403 to HEAD has no body to name the problem (the SDK calls it "Unknown").
    const name = httpStatus(err) === 403 && !MISCONFIGURED[errorName(err)] ? 'Forbidden' : errorName(err);
    const hint = MISCONFIGURED[name];
    if (!hint) return err;
    const endpoint = await this.endpoint();
    return new RetrainError(ErrorType.STORE_MISCONFIGURED, `${this.label} at ${endpoint}: ${operation} failed with ${name}: ${hint}`, {
      retryable: false,
      context: { bucket: this.bucket, endpoint, operation, key },
      details: { code: name, message: (err as Error).message },
      cause: err,
    });
  }

  /** The endpoint the client talks to, for error messages (its region when none was set). */
  private async endpoint(): Promise<string> {
    try {
      const ep = await this.client.config.endpoint?.();
      if (ep) return `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path && ep.path !== '/' ? ep.path : ''}`;
      return `AWS S3 (region ${await this.client.config.region()})`;
    } catch {
      return 'the configured S3 endpoint';
    }
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** A missing object: NoSuchKey from GET, a bare 404 NotFound from HEAD. */
function isNoSuchKey(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NoSuchKey' || (name === 'NotFound' && httpStatus(err) === 404);
}

function isPreconditionFailed(err: unknown): boolean {
  return errorName(err) === 'PreconditionFailed' || httpStatus(err) === 412;
}

function isConditionalConflict(err: unknown): boolean {
  return errorName(err) === 'ConditionalRequestConflict' || httpStatus(err) === 409;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
