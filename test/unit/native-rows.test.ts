import { describe, expect, it } from 'vitest';
import { countsNativeRows, nativeRowCounter } from '../../src/store/native-rows.js';

/** Native bytes of one block, written by hand: columns of (name, type, data). */
function block(rows: number, columns: Array<[string, string, Buffer]>): Buffer {
  const text = (s: string) => Buffer.concat([varint(Buffer.byteLength(s)), Buffer.from(s)]);
  return Buffer.concat([varint(columns.length), varint(rows), ...columns.flatMap(([name, type, data]) => [text(name), text(type), data])]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.from(bytes);
}

const strings = (values: string[]) => Buffer.concat(values.map((v) => Buffer.concat([varint(Buffer.byteLength(v)), Buffer.from(v)])));
const offsets = (ends: number[]) => Buffer.concat(ends.map((e) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(e)); return b; }));

const long = 'x'.repeat(300);
const STREAM = Buffer.concat([
  block(3, [
    ['s', 'String', strings(['a', long, ''])],
    ['n', 'Nullable(UInt8)', Buffer.from([0, 1, 0, 7, 0, 9])],
    ['arr', 'Array(Nullable(String))', Buffer.concat([offsets([2, 2, 3]), Buffer.from([0, 1, 0]), strings(['p', '', 'q'])])],
    ['t', "DateTime('UTC')", Buffer.alloc(12)],
    ['d', 'Decimal(20, 2)', Buffer.alloc(48)],
    ['nested', 'Array(Array(UInt16))', Buffer.concat([offsets([1, 1, 2]), offsets([2, 3]), Buffer.alloc(6)])],
  ]),
  block(0, [['s', 'String', Buffer.alloc(0)]]),
  block(2, [['s', 'String', strings(['é', long])], ['fs', 'FixedString(3)', Buffer.from('abcdef')]]),
]);

async function count(bytes: Buffer, chunk: number): Promise<number> {
  const counter = nativeRowCounter();
  const done = new Promise<void>((resolve, reject) => {
    counter.stream.on('finish', resolve);
    counter.stream.on('error', reject);
  });
  counter.stream.resume();
  for (let i = 0; i < bytes.length; i += chunk) counter.stream.write(bytes.subarray(i, i + chunk));
  counter.stream.end();
  await done;
  return counter.rows();
}

describe('nativeRowCounter', () => {
  it('counts the rows of every block, however the stream is cut into chunks', async () => {
    for (const chunk of [1, 2, 3, 5, 8, 13, 64, 301, STREAM.length]) expect(await count(STREAM, chunk), `chunks of ${chunk}`).toBe(5);
  });

  it('fails a stream that ends inside a block, and a column whose layout it does not know', async () => {
    await expect(count(STREAM.subarray(0, STREAM.length - 1), 64)).rejects.toThrow('ended part way');
    await expect(count(block(1, [['m', 'Map(String, String)', Buffer.alloc(0)]]), 64)).rejects.toThrow('cannot be counted');
  });

  it('says beforehand which columns it can count', () => {
    expect(countsNativeRows(['String', 'Nullable(Int64)', "DateTime64(3, 'UTC')", 'Array(Array(String))', "Enum8('a' = 1)", 'UUID', 'Decimal(38, 4)'])).toBe(true);
    for (const type of ['LowCardinality(String)', 'Map(String, UInt8)', 'Tuple(UInt8, String)', 'AggregateFunction(uniq, UInt64)', 'Nothing']) {
      expect(countsNativeRows([type]), type).toBe(false);
    }
  });
});
