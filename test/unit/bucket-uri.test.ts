import { describe, it, expect } from 'vitest';
import { keyMatcher, objectUri } from '../../src/bucket/bucket-uri.js';
import { parseBucketUri } from '../../src/project/bucket-uri.js';

function matches(uri: string, key: string): boolean {
  return keyMatcher(parseBucketUri(uri))(key);
}

describe('parseBucketUri', () => {
  it('splits a single-folder glob into bucket, pattern and literal prefix', () => {
    expect(parseBucketUri('s3://b/events/*.csv')).toEqual({ bucket: 'b', keyPattern: 'events/*.csv', listPrefix: 'events/' });
  });

  it('stops the list prefix at the first glob character of a complex pattern', () => {
    expect(parseBucketUri('s3://b/a/**/x-?.{csv,tsv}')).toEqual({
      bucket: 'b',
      keyPattern: 'a/**/x-?.{csv,tsv}',
      listPrefix: 'a/',
    });
  });

  it('uses a whole exact key as the list prefix', () => {
    expect(parseBucketUri('s3://b/exact/key.csv')).toEqual({ bucket: 'b', keyPattern: 'exact/key.csv', listPrefix: 'exact/key.csv' });
  });

  it('keeps the trailing slash of a folder', () => {
    expect(parseBucketUri('s3://b/folder/')).toEqual({ bucket: 'b', keyPattern: 'folder/', listPrefix: 'folder/' });
  });

  it('reads a bare bucket as an empty pattern and prefix', () => {
    expect(parseBucketUri('s3://b')).toEqual({ bucket: 'b', keyPattern: '', listPrefix: '' });
    expect(parseBucketUri('s3://b/')).toEqual({ bucket: 'b', keyPattern: '', listPrefix: '' });
  });

  it('cuts the prefix in the middle of a file name', () => {
    expect(parseBucketUri('s3://my-bucket/logs/2024-01-*.ndjson.gz').listPrefix).toBe('logs/2024-01-');
    expect(parseBucketUri('s3://my-bucket/[0-9]/x.csv').listPrefix).toBe('');
    expect(parseBucketUri('s3://my-bucket/data/{a,b}/x.csv').listPrefix).toBe('data/');
  });

  it('ignores surrounding whitespace', () => {
    expect(parseBucketUri('  s3://b/events/*.csv\n')).toEqual({ bucket: 'b', keyPattern: 'events/*.csv', listPrefix: 'events/' });
  });

  it('rejects URIs that are not s3://', () => {
    expect(() => parseBucketUri('https://b/events/*.csv')).toThrow(/is not an s3:\/\/ URI/);
    expect(() => parseBucketUri('s3:///events')).toThrow(/is not an s3:\/\/ URI/);
    expect(() => parseBucketUri('b/events')).toThrow(/s3:\/\/bucket\/prefix/);
    expect(() => parseBucketUri('')).toThrow();
  });
});

describe('keyMatcher', () => {
  it('keeps * within one folder', () => {
    expect(matches('s3://b/events/*.csv', 'events/a.csv')).toBe(true);
    expect(matches('s3://b/events/*.csv', 'events/2024/a.csv')).toBe(false);
    expect(matches('s3://b/events/*.csv', 'events/a.tsv')).toBe(false);
    expect(matches('s3://b/events/*.csv', 'other/a.csv')).toBe(false);
    expect(matches('s3://b/events/*.csv', 'events/a.csv.gz')).toBe(false);
  });

  it('lets ** cross folders, including zero folders', () => {
    expect(matches('s3://b/events/**/*.csv', 'events/2024/01/a.csv')).toBe(true);
    expect(matches('s3://b/events/**/*.csv', 'events/2024/a.csv')).toBe(true);
    expect(matches('s3://b/events/**/*.csv', 'events/a.csv')).toBe(true);
    expect(matches('s3://b/events/**/*.csv', 'other/2024/a.csv')).toBe(false);
    expect(matches('s3://b/**', 'any/depth/of/key.bin')).toBe(true);
  });

  it('matches ? as exactly one character, never a slash', () => {
    expect(matches('s3://b/x-?.csv', 'x-1.csv')).toBe(true);
    expect(matches('s3://b/x-?.csv', 'x-12.csv')).toBe(false);
    expect(matches('s3://b/x-?.csv', 'x-.csv')).toBe(false);
    expect(matches('s3://b/x?y.csv', 'x/y.csv')).toBe(false);
  });

  it('expands {a,b} alternatives', () => {
    expect(matches('s3://b/a/**/x-?.{csv,tsv}', 'a/x-1.csv')).toBe(true);
    expect(matches('s3://b/a/**/x-?.{csv,tsv}', 'a/p/q/x-9.tsv')).toBe(true);
    expect(matches('s3://b/a/**/x-?.{csv,tsv}', 'a/p/x-9.json')).toBe(false);
    expect(matches('s3://b/a/**/x-?.{csv,tsv}', 'a/p/x-10.csv')).toBe(false);
  });

  it('matches character ranges', () => {
    expect(matches('s3://b/part-[0-9].csv', 'part-7.csv')).toBe(true);
    expect(matches('s3://b/part-[0-9].csv', 'part-a.csv')).toBe(false);
    expect(matches('s3://b/part-[0-9].csv', 'part-10.csv')).toBe(false);
  });

  it('matches a literal key exactly, not as a prefix', () => {
    expect(matches('s3://b/exact/key.csv', 'exact/key.csv')).toBe(true);
    expect(matches('s3://b/exact/key.csv', 'exact/key.csv.bak')).toBe(false);
    expect(matches('s3://b/exact/key.csv', 'exact/key.cs')).toBe(false);
    expect(matches('s3://b/exact/key.csv', 'EXACT/key.csv')).toBe(false);
  });

  it('matches everything under a folder that ends in a slash', () => {
    expect(matches('s3://b/folder/', 'folder/a.csv')).toBe(true);
    expect(matches('s3://b/folder/', 'folder/deep/b.csv')).toBe(true);
    expect(matches('s3://b/folder/', 'folder2/a.csv')).toBe(false);
    expect(matches('s3://b/folder/', 'folder')).toBe(false);
  });

  it('matches every key of a bare bucket', () => {
    expect(matches('s3://b', 'a.csv')).toBe(true);
    expect(matches('s3://b', 'x/y/z')).toBe(true);
    expect(matches('s3://b', '.hidden')).toBe(true);
  });

  it('includes dotfiles and dot folders in glob matches', () => {
    expect(matches('s3://b/events/*.csv', 'events/.hidden.csv')).toBe(true);
    expect(matches('s3://b/events/**/*.csv', 'events/.tmp/a.csv')).toBe(true);
  });
});

describe('objectUri', () => {
  it('joins the bucket and key into an s3:// URI', () => {
    expect(objectUri('my-bucket', 'events/2024/a.csv')).toBe('s3://my-bucket/events/2024/a.csv');
    expect(objectUri('b', 'a b/ü.csv')).toBe('s3://b/a b/ü.csv');
  });

  it('round-trips through parseBucketUri for an exact key', () => {
    const uri = parseBucketUri(objectUri('b', 'dir/file.csv'));
    expect(uri).toEqual({ bucket: 'b', keyPattern: 'dir/file.csv', listPrefix: 'dir/file.csv' });
    expect(keyMatcher(uri)('dir/file.csv')).toBe(true);
  });
});
