import { describe, it, expect } from 'vitest';
import { byteOrderMark, decodeWide, type WideEncoding } from '../../src/importer/probe/text-encoding.js';
import { wideText } from '../helpers/wide-text.js';
import { headText } from '../../src/importer/probe/head-text.js';
import { describeTarget, s3TableFunction } from '../../src/importer/engine-source.js';

const TEXT = 'id,name\r\n1,café 😀\r\n';

function encoded(encoding: WideEncoding): Uint8Array {
  return wideText(TEXT, encoding);
}

describe('byte order marks', () => {
  it('name UTF-16 and UTF-32 in either byte order, UTF-32LE before UTF-16LE', () => {
    for (const encoding of ['UTF-16LE', 'UTF-16BE', 'UTF-32LE', 'UTF-32BE'] as const) {
      expect(byteOrderMark(encoded(encoding))).toEqual({ encoding, length: encoding.startsWith('UTF-16') ? 2 : 4 });
    }
  });

  it('leave UTF-8, with its own mark or without, and short heads alone', () => {
    expect(byteOrderMark(Buffer.from('\uFEFFid,name\n'))).toBeUndefined();
    expect(byteOrderMark(Buffer.from('id,name\n'))).toBeUndefined();
    expect(byteOrderMark(new Uint8Array([0xff]))).toBeUndefined();
  });

  it('decode a head in its encoding, without the mark', () => {
    for (const encoding of ['UTF-16LE', 'UTF-16BE', 'UTF-32LE', 'UTF-32BE'] as const) {
      const bytes = encoded(encoding);
      expect(decodeWide(bytes, byteOrderMark(bytes)!)).toBe(TEXT);
    }
  });

  it('make the head text of a wide object its decoded text', () => {
    const head = headText(encoded('UTF-16BE'), 'none', true);
    expect(head).toEqual({ text: TEXT, complete: true, mark: { encoding: 'UTF-16BE', length: 2 } });
  });
});

describe('reads of a converted copy', () => {
  const copy = { url: 'http://s3.local/b/k.csv', localFile: '/tmp/scratch/converted/ds/abc.txt', compression: 'none' as const, etag: 'e', exactPath: '/b/k*.csv' };

  it('read the local file, every value bound, with nothing to pin or filter', () => {
    const { sql, params } = s3TableFunction(copy, 'CSV', 'a String');
    expect(sql).toBe("file({src_file:String}, {src_format:String}, {src_structure:String}, 'none')");
    expect(params).toEqual({ src_file: copy.localFile, src_format: 'CSV', src_structure: 'a String' });
    expect(describeTarget(copy, 'CSV').sql).toBe("file({src_file:String}, {src_format:String}, 'auto', 'none')");
  });
});
