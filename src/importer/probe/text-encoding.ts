import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectRef } from '../../bucket/list-objects.js';
import { objectUri } from '../../bucket/bucket-uri.js';
import { BucketpipeError } from '../../errors.js';
import { runStatement, selectRows } from '../../store/queries.js';
import { s3TableFunction, type ObjectSource } from '../engine-source.js';
import type { ImportContext } from '../import-context.js';

/** A text encoding other than UTF-8 that a byte order mark names. */
export type WideEncoding = 'UTF-16LE' | 'UTF-16BE' | 'UTF-32LE' | 'UTF-32BE';

/** What a byte order mark at the start of an object says. */
export interface ByteOrderMark {
  encoding: WideEncoding;
  /** Bytes of the mark itself, which the converted text leaves out. */
  length: number;
}

/** The wide encoding the first bytes of a text announce, if any (UTF-8's own mark is not one: UTF-8 is read as it is). */
export function byteOrderMark(bytes: Uint8Array): ByteOrderMark | undefined {
  const [a, b, c, d] = bytes;
  // UTF-32LE's mark starts like UTF-16LE's, so it is tried first.
  if (a === 0xff && b === 0xfe && c === 0x00 && d === 0x00) return { encoding: 'UTF-32LE', length: 4 };
  if (a === 0x00 && b === 0x00 && c === 0xfe && d === 0xff) return { encoding: 'UTF-32BE', length: 4 };
  if (a === 0xff && b === 0xfe) return { encoding: 'UTF-16LE', length: 2 };
  if (a === 0xfe && b === 0xff) return { encoding: 'UTF-16BE', length: 2 };
  return undefined;
}

/** The head of an object in a wide encoding as text, its mark left out (a character cut off at the end becomes U+FFFD). */
export function decodeWide(bytes: Uint8Array, mark: ByteOrderMark): string {
  const body = bytes.subarray(mark.length);
  if (mark.encoding === 'UTF-16LE' || mark.encoding === 'UTF-16BE') return new TextDecoder(mark.encoding.toLowerCase()).decode(body);
  // No TextDecoder reads UTF-32: the head is at most 64 KiB, 16,384 code points.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength - (body.byteLength % 4));
  const little = mark.encoding === 'UTF-32LE';
  let text = '';
  for (let i = 0; i < view.byteLength; i += 4) {
    const point = view.getUint32(i, little);
    text += point <= 0x10ffff ? String.fromCodePoint(point) : '\uFFFD';
  }
  return text;
}

/** The mark of an object whose head cannot be decoded here (zstd), from its first bytes as the engine reads them. */
export async function engineByteOrderMark(ctx: ImportContext, source: ObjectSource): Promise<ByteOrderMark | undefined> {
  const lines = s3TableFunction(source, 'LineAsString', 'line String');
  const [first] = await selectRows<{ start: string }>(ctx.engine, `SELECT hex(substring(line, 1, 4)) AS start FROM ${lines.sql} LIMIT 1`, lines.params);
  return first ? byteOrderMark(Buffer.from(first.start, 'hex')) : undefined;
}

/**
 * Objects up to this size are converted; the engine holds one whole while it converts it. Larger
 * ones are refused with a sentence that says how to convert them.
 */
export const MAX_CONVERTED_BYTES = 1024 * 1024 * 1024;

/**
 * Converts a UTF-16 or UTF-32 object to UTF-8, in the engine: it reads the object (pinned to its
 * listed version, decompressed), converts it with `convertCharset`, and writes the text without its
 * mark to a file of the reading engine's machine. Every later read of the object reads that file.
 */
export async function convertToUtf8(ctx: ImportContext, object: ObjectRef, source: ObjectSource, mark: ByteOrderMark): Promise<ObjectSource> {
  const uri = objectUri(object.bucket, object.key);
  if (object.size > MAX_CONVERTED_BYTES) {
    throw new BucketpipeError(
      'OBJECT_UNREADABLE',
      `${uri} is ${mark.encoding} text (it starts with a ${mark.encoding} byte order mark) of ${object.size} bytes; bucketpipe converts such text to UTF-8 up to ${MAX_CONVERTED_BYTES} bytes. Convert it to UTF-8 (e.g. iconv -f ${mark.encoding} -t UTF-8) and upload it again.`,
      { context: { datasource: ctx.datasource.name, bucket: object.bucket, key: object.key } },
    );
  }
  const folder = conversionFolder(ctx);
  // The converted text is the user's data: the folder is theirs alone.
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const localFile = join(folder, `${createHash('sha256').update(`${object.bucket}\n${object.key}\n${object.etag}`).digest('hex').slice(0, 32)}.txt`);
  const whole = s3TableFunction(source, 'RawBLOB', 'raw String');
  await runStatement(
    ctx.engine,
    `INSERT INTO FUNCTION file({txt_file:String}, 'RawBLOB', 'raw String', 'none') ` +
      `SELECT convertCharset(substring(raw, {txt_skip:UInt8} + 1), {txt_encoding:String}, 'UTF-8') FROM ${whole.sql}`,
    { ...whole.params, txt_file: localFile, txt_skip: mark.length, txt_encoding: mark.encoding },
    { engine_file_truncate_on_insert: 1 },
    ctx.signal,
  );
  return { url: source.url, localFile, compression: 'none' };
}

/** Removes the converted copies a datasource's probes made: at the end of a run, a push or a preview. */
export function releaseConversions(ctx: Pick<ImportContext, 'store' | 'datasource'>): void {
  rmSync(conversionFolder(ctx), { recursive: true, force: true });
}

function conversionFolder(ctx: Pick<ImportContext, 'store' | 'datasource'>): string {
  return join(ctx.store.scratchDir, 'converted', ctx.datasource.name);
}
