import { constants, gunzipSync } from 'node:zlib';
import type { Compression } from '../../formats.js';
import { byteOrderMark, decodeWide, type ByteOrderMark } from './text-encoding.js';

/** The text at the start of an object, decoded from its first bytes. */
export interface HeadText {
  text: string;
  /** The bytes held the whole object. */
  complete: boolean;
  /** Set when the text is UTF-16 or UTF-32 (its byte order mark says so); `text` is decoded from it. */
  mark?: ByteOrderMark;
}

/**
 * Decodes the first bytes of an object, inflating gzip as far as they go. Undefined where the
 * compression cannot be read from a prefix here (zstd), or the prefix is not valid gzip.
 */
export function headText(bytes: Uint8Array, compression: Compression, complete: boolean): HeadText | undefined {
  let plain: Uint8Array;
  if (compression === 'none') plain = bytes;
  else if (compression === 'gzip') {
    try {
      // A cut-off stream inflates as far as it goes with a sync flush instead of failing.
      plain = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
  } else return undefined;
  const mark = byteOrderMark(plain);
  if (mark) return { text: decodeWide(plain, mark), complete, mark };
  return { text: new TextDecoder().decode(plain), complete };
}

/**
 * The first line without its line end (`\n`, `\r\n` or a lone `\r`), or undefined when the head ends
 * before the line does.
 */
export function firstLineOf(head: HeadText): string | undefined {
  const end = head.text.search(/[\r\n]/);
  if (end < 0) return head.complete ? head.text : undefined;
  return head.text.slice(0, end);
}

/**
 * Whether the head holds a lone `\r`, a line end of old Mac files. A `\r` that ends a cut-off head
 * may be the first half of a `\r\n`, and does not count.
 */
export function holdsLoneCarriageReturn(head: HeadText): boolean {
  const text = head.complete ? head.text : head.text.replace(/\r$/, '');
  return /\r(?!\n)/.test(text);
}
