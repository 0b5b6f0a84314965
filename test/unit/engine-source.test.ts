import { describe, it, expect } from 'vitest';
import { describeTarget, redact, s3TableFunction, sourceSecrets, type ObjectSource } from '../../src/importer/engine-source.js';

const URL_ = 'https://my-bucket.s3.eu-west-1.amazonaws.com/events/a.csv';
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'FwoGZXIvYXdzEJr//////////wEaDOm0sessiontoken';

const signed: ObjectSource = { url: URL_, credentials: { accessKeyId: KEY, secretAccessKey: SECRET }, compression: 'gzip' };
const withToken: ObjectSource = { url: URL_, credentials: { accessKeyId: KEY, secretAccessKey: SECRET, sessionToken: TOKEN }, compression: 'none' };
const anonymous: ObjectSource = { url: URL_, compression: 'zstd' };

describe('s3TableFunction', () => {
  it('binds the credentials as parameters', () => {
    const { sql, params } = s3TableFunction(signed, 'CSVWithNames');
    expect(sql).toBe(
      "s3({src_url:String}, {src_key:String}, {src_secret:String}, {src_token:String}, {src_format:String}, 'auto', {src_compression:String})",
    );
    expect(params).toEqual({
      src_url: URL_,
      src_key: KEY,
      src_secret: SECRET,
      src_token: '',
      src_format: 'CSVWithNames',
      src_compression: 'gzip',
    });
  });

  it('binds the session token when there is one', () => {
    const { params } = s3TableFunction(withToken, 'Parquet');
    expect(params.src_token).toBe(TOKEN);
    expect(params.src_compression).toBe('none');
  });

  it('reads anonymously with NOSIGN when there are no credentials', () => {
    const { sql, params } = s3TableFunction(anonymous, 'JSONEachRow');
    expect(sql).toBe("s3({src_url:String}, NOSIGN, {src_format:String}, 'auto', {src_compression:String})");
    expect(params).toEqual({ src_url: URL_, src_format: 'JSONEachRow', src_compression: 'zstd' });
    expect(params).not.toHaveProperty('src_key');
    expect(params).not.toHaveProperty('src_secret');
    expect(params).not.toHaveProperty('src_token');
  });

  it('binds a structure when one is given', () => {
    const structure = "`id` Int64, `it's` String";
    const { sql, params } = s3TableFunction(signed, 'CSV', structure);
    expect(sql).toBe(
      's3({src_url:String}, {src_key:String}, {src_secret:String}, {src_token:String}, {src_format:String}, {src_structure:String}, {src_compression:String})',
    );
    expect(params.src_structure).toBe(structure);
    expect(sql).not.toContain("'auto'");
  });

  it('binds an empty structure rather than falling back to auto', () => {
    const { sql, params } = s3TableFunction(anonymous, 'CSV', '');
    expect(sql).toContain('{src_structure:String}');
    expect(params.src_structure).toBe('');
  });

  it('never puts a credential, the URL or the format in the SQL text', () => {
    for (const source of [signed, withToken, anonymous]) {
      for (const structure of [undefined, 'a String']) {
        const { sql } = s3TableFunction(source, 'CSVWithNames', structure);
        for (const value of [KEY, SECRET, TOKEN, URL_, 'CSVWithNames', 'a String']) expect(sql).not.toContain(value);
      }
    }
  });

  it('binds every placeholder it writes', () => {
    for (const source of [signed, anonymous]) {
      for (const structure of [undefined, 'a String']) {
        const { sql, params } = s3TableFunction(source, 'CSV', structure);
        const placeholders = [...sql.matchAll(/\{(\w+):String\}/g)].map((m) => m[1]);
        expect(placeholders.sort()).toEqual(Object.keys(params).sort());
      }
    }
  });
});

describe('reads of a key the engine would take as a glob', () => {
  const pattern: ObjectSource = { ...signed, url: 'http://s3.local/b/d/star%3F.csv', exactPath: '/b/d/star*.csv', etag: 'abc' };

  it('keep only the object at the exact path, bound, before the ETag check', () => {
    const { sql, params } = s3TableFunction(pattern, 'CSV', 'a String');
    expect(sql).toMatch(/WHERE endsWith\(concat\('\/', _path\), \{src_path:String\}\) AND throwIf\(/);
    expect(params.src_path).toBe('/b/d/star*.csv');
    expect(params.src_etag).toBe('abc');
    expect(sql).not.toContain('star');
  });

  it('keep the exact path when unpinned too', () => {
    const { sql, params } = s3TableFunction({ ...pattern, etag: undefined }, 'LineAsString', 'line String');
    expect(sql).toContain('_path');
    expect(sql).not.toContain('_etag');
    expect(params.src_path).toBe('/b/d/star*.csv');
  });

  it('describe the object from its own text, not from the pattern', () => {
    const text = describeTarget(pattern, 'CSV');
    expect(text.sql).toMatch(/^format\(\{sample_format:String\}, \(SELECT arrayStringConcat\(groupArray\(line\), '\\n'\)/);
    expect(text.params).toMatchObject({ sample_format: 'CSV', src_format: 'LineAsString', src_path: '/b/d/star*.csv' });
    expect(text.params).not.toHaveProperty('src_etag');
    const parquet = describeTarget(pattern, 'Parquet');
    expect(parquet.params).toMatchObject({ sample_format: 'Parquet', src_format: 'RawBLOB' });
  });

  it('describe a plain key with the table function itself', () => {
    const { sql, params } = describeTarget({ ...signed, etag: 'abc' }, 'Parquet');
    expect(sql.startsWith('s3(')).toBe(true);
    expect(params).not.toHaveProperty('src_etag');
  });

  it('bind every placeholder they write', () => {
    for (const { sql, params } of [s3TableFunction(pattern, 'CSV', 'a String'), describeTarget(pattern, 'CSV'), describeTarget(pattern, 'Parquet')]) {
      const placeholders = [...new Set([...sql.matchAll(/\{(\w+):String\}/g)].map((m) => m[1]))];
      expect(placeholders.sort()).toEqual(Object.keys(params).sort());
    }
  });
});

describe('sourceSecrets', () => {
  it('lists the secret, the token and the access key', () => {
    expect(sourceSecrets(withToken)).toEqual([SECRET, TOKEN, KEY]);
  });

  it('leaves out a missing token', () => {
    expect(sourceSecrets(signed)).toEqual([SECRET, KEY]);
  });

  it('is empty for anonymous access', () => {
    expect(sourceSecrets(anonymous)).toEqual([]);
  });

  it('leaves out values too short to scrub safely', () => {
    const short: ObjectSource = { url: URL_, credentials: { accessKeyId: 'abc', secretAccessKey: 'abcd', sessionToken: 'x' }, compression: 'none' };
    expect(sourceSecrets(short)).toEqual(['abcd']);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret', () => {
    const message = `Code: 499. S3 error: key ${KEY} secret ${SECRET} again ${SECRET}`;
    expect(redact(message, sourceSecrets(signed))).toBe('Code: 499. S3 error: key [redacted] secret [redacted] again [redacted]');
  });

  it('treats secrets literally, not as patterns', () => {
    expect(redact('a.b+c a.b+c axbbc', ['a.b+c'])).toBe('[redacted] [redacted] axbbc');
    expect(redact('x $& y', ['$&'])).toBe('x [redacted] y');
  });

  it('leaves text without secrets, or with no secrets given, unchanged', () => {
    expect(redact('nothing to see', [SECRET])).toBe('nothing to see');
    expect(redact('nothing to see', [])).toBe('nothing to see');
  });

  it('scrubs a message built from a real table-function call', () => {
    const { params } = s3TableFunction(withToken, 'CSV');
    const engineMessage = `Failed to read ${params.src_url} with ${params.src_key}:${params.src_secret} token=${params.src_token}`;
    const clean = redact(engineMessage, sourceSecrets(withToken));
    for (const secret of [KEY, SECRET, TOKEN]) expect(clean).not.toContain(secret);
    expect(clean).toContain(URL_);
  });
});
