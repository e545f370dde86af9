/**
 * s3://bucket/key URLs, for the store location and data sources. The key part may be an
 * object or a prefix ('' for the whole bucket); surrounding slashes are dropped so a prefix
 * never produces "//" (a different S3 key).
 */
export type S3UrlResult = { ok: true; bucket: string; key: string } | { ok: false; error: string };

// S3 bucket naming rules: 3–63 lower-case letters, digits, dots and hyphens, starting and
// ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Whether a path is meant as S3 (then it must parse; "s3:/x" is a broken URL, not a local file). */
export function isS3Url(path: string): boolean {
  return path.startsWith('s3:');
}

/** Splits an `s3://bucket/key` URL into bucket and key, or says why it is not a valid one. */
export function parseS3Url(url: string): S3UrlResult {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!match) return { ok: false, error: `"${url}" is not an s3:// URL (expected s3://bucket or s3://bucket/prefix)` };
  const [, bucket, rest = ''] = match;
  if (!BUCKET.test(bucket!)) {
    return { ok: false, error: `"${bucket}" in ${url} is not a valid bucket name (3–63 lower-case letters, digits, dots and hyphens)` };
  }
  const key = rest.replace(/^\/+|\/+$/g, '');
  if (key.split('/').some((p) => p === '.' || p === '..')) return { ok: false, error: `${url} has "." or ".." in its key` };
  if (/\/\//.test(key)) return { ok: false, error: `${url} has an empty path segment ("//")` };
  return { ok: true, bucket: bucket!, key };
}
