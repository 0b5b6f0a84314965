import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counting the rows of a Native stream as it passes, without decoding its values: each block names
 * its columns' types and row count, and the bytes of each column are skipped by its type. Only the
 * types whose layout is plain are known here (numbers, dates and times, Decimal, UUID, Enum, String,
 * FixedString, and Nullable and Array of them); `countsNativeRows` says whether a stream of such
 * columns can be counted, before it starts.
 */

type NativeType =
  | { kind: 'fixed'; bytes: number }
  | { kind: 'string' }
  | { kind: 'nullable'; inner: NativeType }
  | { kind: 'array'; inner: NativeType };

const FIXED: Readonly<Record<string, number>> = {
  UInt8: 1, Int8: 1, Enum8: 1,
  UInt16: 2, Int16: 2, Enum16: 2, Date: 2,
  UInt32: 4, Int32: 4, Float32: 4, DateTime: 4, Decimal32: 4, IPv4: 4, Date32: 4,
  UInt64: 8, Int64: 8, Float64: 8, DateTime64: 8, Decimal64: 8,
  UInt128: 16, Int128: 16, Decimal128: 16, UUID: 16, IPv6: 16,
  UInt256: 32, Int256: 32, Decimal256: 32,
};

/** The layout of a column type in Native; undefined for a type not known here. */
export function nativeType(type: string): NativeType | undefined {
  const t = type.trim();
  const wrapped = /^(Nullable|Array)\((.*)\)$/s.exec(t);
  if (wrapped) {
    const inner = nativeType(wrapped[2]!);
    if (!inner) return undefined;
    return wrapped[1] === 'Nullable' ? { kind: 'nullable', inner } : { kind: 'array', inner };
  }
  if (t === 'String') return { kind: 'string' };
  const fixedString = /^FixedString\((\d+)\)$/.exec(t);
  if (fixedString) return { kind: 'fixed', bytes: Number(fixedString[1]) };
  const decimal = /^Decimal\((\d+)\s*(?:,\s*\d+\s*)?\)$/.exec(t);
  if (decimal) {
    const precision = Number(decimal[1]);
    return { kind: 'fixed', bytes: precision <= 9 ? 4 : precision <= 18 ? 8 : precision <= 38 ? 16 : 32 };
  }
  const name = /^([A-Za-z0-9]+)(\(.*\))?$/s.exec(t)?.[1];
  const bytes = name === undefined ? undefined : FIXED[name];
  return bytes === undefined ? undefined : { kind: 'fixed', bytes };
}

/** Whether a Native stream of columns of these types can be counted by `nativeRowCounter`. */
export function countsNativeRows(types: readonly string[]): boolean {
  return types.every((t) => nativeType(t) !== undefined);
}

type Task =
  | { t: 'block' }
  | { t: 'column'; rows: number }
  | { t: 'skip'; n: number }
  | { t: 'strings'; n: number }
  | { t: 'lastOffset'; inner: NativeType }
  | { t: 'data'; type: NativeType; n: number };

/**
 * A pass-through stream that counts the rows of the Native blocks going through it; `rows()` is the
 * count once the stream has ended. It fails the stream at a type not known here, or at an end that
 * falls inside a block.
 */
export function nativeRowCounter(): { stream: Transform; rows(): number } {
  let rows = 0;
  let leftover: Buffer = Buffer.alloc(0);
  const stack: Task[] = [];

  /** Consumes what it can of `buf` from `pos`; returns where it stopped (short of a value it needs whole). */
  const consume = (buf: Buffer, start: number): number => {
    let pos = start;
    for (;;) {
      if (stack.length === 0) {
        if (pos >= buf.length) return pos;
        stack.push({ t: 'block' });
      }
      const task = stack[stack.length - 1]!;
      switch (task.t) {
        case 'skip': {
          const n = Math.min(task.n, buf.length - pos);
          pos += n;
          task.n -= n;
          if (task.n > 0) return pos;
          stack.pop();
          break;
        }
        case 'block': {
          const columns = varint(buf, pos);
          if (!columns) return pos;
          const count = varint(buf, columns.end);
          if (!count) return pos;
          pos = count.end;
          stack.pop();
          rows += count.value;
          for (let i = 0; i < columns.value; i++) stack.push({ t: 'column', rows: count.value });
          break;
        }
        case 'column': {
          const name = text(buf, pos);
          if (!name) return pos;
          const type = text(buf, name.end);
          if (!type) return pos;
          const layout = nativeType(type.value);
          if (!layout) throw new Error(`rows of type ${type.value} cannot be counted as they pass`);
          pos = type.end;
          stack.pop();
          stack.push({ t: 'data', type: layout, n: task.rows });
          break;
        }
        case 'data': {
          stack.pop();
          const { type, n } = task;
          if (n === 0) break;
          if (type.kind === 'fixed') stack.push({ t: 'skip', n: n * type.bytes });
          else if (type.kind === 'string') stack.push({ t: 'strings', n });
          else if (type.kind === 'nullable') stack.push({ t: 'data', type: type.inner, n }, { t: 'skip', n });
          else stack.push({ t: 'lastOffset', inner: type.inner }, { t: 'skip', n: (n - 1) * 8 });
          break;
        }
        case 'lastOffset': {
          if (buf.length - pos < 8) return pos;
          const elements = Number(buf.readBigUInt64LE(pos));
          pos += 8;
          stack.pop();
          stack.push({ t: 'data', type: task.inner, n: elements });
          break;
        }
        case 'strings': {
          // The hot loop: one length and a skip per value, without an object per value.
          const end = buf.length;
          let n = task.n;
          while (n > 0) {
            let length = 0;
            let shift = 0;
            let i = pos;
            let byte = 0x80;
            while (i < end) {
              byte = buf[i++]!;
              length += (byte & 0x7f) * 2 ** shift;
              if ((byte & 0x80) === 0) break;
              shift += 7;
            }
            if ((byte & 0x80) !== 0) {
              task.n = n;
              return pos;
            }
            pos = i;
            n--;
            if (pos + length > end) {
              // The rest of this value comes with the next chunks.
              const rest = length - (end - pos);
              task.n = n;
              if (n === 0) stack.pop();
              stack.push({ t: 'skip', n: rest });
              return end;
            }
            pos += length;
          }
          stack.pop();
          break;
        }
      }
    }
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        const buf = leftover.length > 0 ? Buffer.concat([leftover, chunk]) : chunk;
        leftover = Buffer.from(buf.subarray(consume(buf, 0)));
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      // A whole stream ends between blocks, with nothing left over.
      if (leftover.length > 0 || stack.length > 0) done(new Error('the rows ended part way through a block'));
      else done();
    },
  });
  return { stream, rows: () => rows };
}

/** An unsigned LEB128 number at `pos`; undefined when `buf` ends before it does. */
function varint(buf: Buffer, pos: number): { value: number; end: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < buf.length; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, end: i + 1 };
    shift += 7;
  }
  return undefined;
}

/** A length-prefixed text at `pos`; undefined when `buf` ends before it does. */
function text(buf: Buffer, pos: number): { value: string; end: number } | undefined {
  const length = varint(buf, pos);
  if (!length || length.end + length.value > buf.length) return undefined;
  return { value: buf.toString('utf8', length.end, length.end + length.value), end: length.end + length.value };
}
