import type { WideEncoding } from '../../src/importer/probe/text-encoding.js';

/** Text in a wide encoding, with its byte order mark, as editors that write UTF-16 or UTF-32 save it. */
export function wideText(text: string, encoding: WideEncoding): Buffer {
  const withMark = '\uFEFF' + text;
  if (encoding === 'UTF-16LE') return Buffer.from(withMark, 'utf16le');
  if (encoding === 'UTF-16BE') return Buffer.from(withMark, 'utf16le').swap16();
  const points = [...withMark].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(points.length * 4);
  points.forEach((p, i) => (encoding === 'UTF-32LE' ? out.writeUInt32LE(p, i * 4) : out.writeUInt32BE(p, i * 4)));
  return out;
}
