import { describe, expect, it } from 'vitest';
import { encodedFormat, formatNamed, type EncodingSettings } from '../../src/formats.js';
import { parseExportUri } from '../../src/project/bucket-uri.js';

const CSV: EncodingSettings = { format: 'csv', compression: 'none', csvHeader: true, csvDelimiter: ',', parquetCompression: 'zstd' };

describe('encodedFormat', () => {
  it('encodes csv with or without a header row, and the delimiter as a setting', () => {
    expect(encodedFormat(CSV)).toEqual({ engineFormat: 'CSVWithNames', extension: 'csv', compression: 'none', contentType: 'text/csv', settings: { format_csv_delimiter: ',' } });
    expect(encodedFormat({ ...CSV, csvHeader: false, csvDelimiter: ';' })).toMatchObject({ engineFormat: 'CSV', settings: { format_csv_delimiter: ';' } });
  });

  it('adds the compression ending to the format: csv + gzip is .csv.gz', () => {
    expect(encodedFormat({ ...CSV, compression: 'gzip' })).toMatchObject({ extension: 'csv.gz', compression: 'gzip', contentType: 'application/gzip' });
    expect(encodedFormat({ ...CSV, format: 'jsonl', compression: 'gzip' })).toEqual({
      engineFormat: 'JSONEachRow', extension: 'jsonl.gz', compression: 'gzip', contentType: 'application/gzip', settings: {},
    });
    expect(encodedFormat({ ...CSV, format: 'jsonl' })).toMatchObject({ extension: 'jsonl', contentType: 'application/x-ndjson' });
  });

  it('compresses parquet inside the file, with its own settings', () => {
    expect(encodedFormat({ ...CSV, format: 'parquet', parquetCompression: 'snappy', parquetRowGroupSize: 1000 })).toEqual({
      engineFormat: 'Parquet',
      extension: 'parquet',
      compression: 'none',
      contentType: 'application/vnd.apache.parquet',
      settings: { output_format_parquet_compression_method: 'snappy', output_format_parquet_row_group_size: 1000 },
    });
  });
});

describe('formatNamed', () => {
  it('knows every name a datafile may write, in any case, under its import and export names', () => {
    expect(formatNamed('JSON')).toMatchObject({ importName: 'ndjson', exportName: 'jsonl' });
    expect(formatNamed('jsonl')?.importName).toBe('ndjson');
    expect(formatNamed('Parquet')?.exportName).toBe('parquet');
    expect(formatNamed('tsv')).toBeUndefined();
    expect(formatNamed('constructor')).toBeUndefined();
  });
});

describe('parseExportUri', () => {
  it('splits the bucket from the key prefix, which ends with "/" or is empty', () => {
    expect(parseExportUri('s3://b/exports/events')).toEqual({ bucket: 'b', prefix: 'exports/events/' });
    expect(parseExportUri('s3://b/exports/')).toEqual({ bucket: 'b', prefix: 'exports/' });
    expect(parseExportUri('s3://b/')).toEqual({ bucket: 'b', prefix: '' });
    expect(parseExportUri('s3://b')).toEqual({ bucket: 'b', prefix: '' });
    expect(() => parseExportUri('b/exports')).toThrow(/is not an s3:\/\/ URI/);
  });
});
