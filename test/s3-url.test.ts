import { describe, expect, it } from 'vitest';
import { isS3Url, parseS3Url } from '../lib/s3-url';

describe('parseS3Url', () => {
  it('splits bucket and key, dropping surrounding slashes of the key', () => {
    expect(parseS3Url('s3://ml-data/exports/churn/')).toEqual({ ok: true, bucket: 'ml-data', key: 'exports/churn' });
    expect(parseS3Url('s3://ml-data/a.csv')).toEqual({ ok: true, bucket: 'ml-data', key: 'a.csv' });
    expect(parseS3Url('s3://ml-data')).toEqual({ ok: true, bucket: 'ml-data', key: '' });
    expect(parseS3Url('s3://ml.data-2/')).toEqual({ ok: true, bucket: 'ml.data-2', key: '' });
  });

  it('says what is wrong with a bad URL', () => {
    expect(parseS3Url('s3:/ml-data/x')).toEqual({ ok: false, error: expect.stringContaining('is not an s3:// URL') });
    expect(parseS3Url('s3://ab/x')).toEqual({ ok: false, error: expect.stringContaining('"ab" in s3://ab/x is not a valid bucket name') });
    expect(parseS3Url('s3://-bucket/x')).toMatchObject({ ok: false });
    expect(parseS3Url('s3:///x')).toMatchObject({ ok: false });
    expect(parseS3Url('s3://bucket/a/../b')).toEqual({ ok: false, error: expect.stringContaining('"." or ".."') });
    expect(parseS3Url('s3://bucket/a//b')).toEqual({ ok: false, error: expect.stringContaining('empty path segment') });
  });

  it('tells s3:// paths from local ones', () => {
    expect(isS3Url('s3://b/k')).toBe(true);
    expect(isS3Url('data/s3/file.csv')).toBe(false);
    expect(isS3Url('/abs/s3://x')).toBe(false);
  });
});
