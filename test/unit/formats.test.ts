import { describe, it, expect } from 'vitest';
import { compressionOf, formatOfKey } from '../../src/formats.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const GZIP = bytes(0x1f, 0x8b, 0x08, 0x00);
const ZSTD = bytes(0x28, 0xb5, 0x2f, 0xfd, 0x04);
const TEXT = new TextEncoder().encode('id,name\n1,a\n');
const EMPTY = new Uint8Array(0);

describe('formatOfKey', () => {
  it('reads the format from the extension', () => {
    expect(formatOfKey('events/a.csv')).toBe('csv');
    expect(formatOfKey('events/a.tsv')).toBe('csv');
    expect(formatOfKey('events/a.txt')).toBe('csv');
    expect(formatOfKey('events/a.ndjson')).toBe('ndjson');
    expect(formatOfKey('events/a.jsonl')).toBe('ndjson');
    expect(formatOfKey('events/a.json')).toBe('ndjson');
    expect(formatOfKey('events/a.parquet')).toBe('parquet');
    expect(formatOfKey('events/a.pq')).toBe('parquet');
  });

  it('looks through a compression ending', () => {
    expect(formatOfKey('a.csv.gz')).toBe('csv');
    expect(formatOfKey('a.jsonl.zst')).toBe('ndjson');
    expect(formatOfKey('a.ndjson.gzip')).toBe('ndjson');
    expect(formatOfKey('a.tsv.zstd')).toBe('csv');
  });

  it('ignores case', () => {
    expect(formatOfKey('EVENTS/A.CSV')).toBe('csv');
    expect(formatOfKey('a.Parquet')).toBe('parquet');
    expect(formatOfKey('a.JSONL.GZ')).toBe('ndjson');
  });

  it('lets the declared format win over the extension', () => {
    expect(formatOfKey('a.csv', 'ndjson')).toBe('ndjson');
    expect(formatOfKey('a.unknown', 'parquet')).toBe('parquet');
    expect(formatOfKey('no-extension', 'csv')).toBe('csv');
  });

  it('returns undefined for unknown extensions', () => {
    expect(formatOfKey('a.xml')).toBeUndefined();
    expect(formatOfKey('a.gz')).toBeUndefined();
    expect(formatOfKey('a.tar.gz')).toBeUndefined();
    expect(formatOfKey('a.csv.bak')).toBeUndefined();
    expect(formatOfKey('README')).toBeUndefined();
    expect(formatOfKey('')).toBeUndefined();
  });

  it('only strips one compression ending', () => {
    expect(formatOfKey('a.csv.gz.zst')).toBeUndefined();
  });
});

describe('compressionOf', () => {
  it('reads gzip and zstd from the magic bytes', () => {
    expect(compressionOf('a.csv', GZIP)).toBe('gzip');
    expect(compressionOf('a.csv', ZSTD)).toBe('zstd');
  });

  it('lets the magic bytes beat the key ending', () => {
    expect(compressionOf('a.csv.zst', GZIP)).toBe('gzip');
    expect(compressionOf('a.csv.gz', ZSTD)).toBe('zstd');
  });

  it('lets the magic bytes beat the Content-Encoding', () => {
    expect(compressionOf('a.csv', ZSTD, 'gzip')).toBe('zstd');
    expect(compressionOf('a.csv', GZIP, 'zstd')).toBe('gzip');
  });

  it('reads plain bytes as uncompressed even when the key says otherwise', () => {
    expect(compressionOf('a.csv.gz', TEXT)).toBe('none');
    expect(compressionOf('a.csv.zst', TEXT)).toBe('none');
    expect(compressionOf('a.csv', TEXT)).toBe('none');
  });

  it('needs the whole magic number', () => {
    expect(compressionOf('a.csv', bytes(0x1f))).toBe('none');
    expect(compressionOf('a.csv', bytes(0x28, 0xb5, 0x2f))).toBe('none');
    expect(compressionOf('a.csv', bytes(0x8b, 0x1f))).toBe('none');
  });

  it('uses the Content-Encoding when the bytes carry no magic number', () => {
    expect(compressionOf('a.csv', TEXT, 'gzip')).toBe('gzip');
    expect(compressionOf('a.csv', TEXT, 'GZIP')).toBe('gzip');
    expect(compressionOf('a.csv', TEXT, 'x-gzip')).toBe('gzip');
    expect(compressionOf('a.csv', TEXT, 'zstd')).toBe('zstd');
    expect(compressionOf('a.csv', TEXT, 'identity')).toBe('none');
    expect(compressionOf('a.csv.gz', EMPTY, 'zstd')).toBe('zstd');
  });

  it('falls back to the key ending for an empty head', () => {
    expect(compressionOf('a.csv.gz', EMPTY)).toBe('gzip');
    expect(compressionOf('a.csv.GZIP', EMPTY)).toBe('gzip');
    expect(compressionOf('a.jsonl.zst', EMPTY)).toBe('zstd');
    expect(compressionOf('a.jsonl.zstd', EMPTY)).toBe('zstd');
    expect(compressionOf('a.csv', EMPTY)).toBe('none');
    expect(compressionOf('a.csv', EMPTY, 'br')).toBe('none');
  });
});
