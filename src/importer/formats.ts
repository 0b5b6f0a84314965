import type { ImportFormat } from '../project/types.js';

/** How one import format is read by the engine. A format is a record, not a class. */
export interface FormatSpec {
  name: ImportFormat;
  /** Key endings (after any compression ending is removed). */
  extensions: readonly string[];
}

export const FORMATS: readonly FormatSpec[] = [
  { name: 'csv', extensions: ['.csv', '.tsv', '.txt'] },
  { name: 'ndjson', extensions: ['.ndjson', '.jsonl', '.json'] },
  { name: 'parquet', extensions: ['.parquet', '.pq'] },
];

export type Compression = 'none' | 'gzip' | 'zstd';

const COMPRESSION_ENDINGS: ReadonlyArray<[string, Compression]> = [
  ['.gz', 'gzip'],
  ['.gzip', 'gzip'],
  ['.zst', 'zstd'],
  ['.zstd', 'zstd'],
];

function withoutCompressionEnding(key: string): string {
  const lower = key.toLowerCase();
  for (const [ending] of COMPRESSION_ENDINGS) if (lower.endsWith(ending)) return lower.slice(0, -ending.length);
  return lower;
}

/** The format of an object: the datasource's IMPORT_FORMAT, else the key's extension. */
export function formatOfKey(key: string, declared?: ImportFormat): ImportFormat | undefined {
  if (declared) return declared;
  const base = withoutCompressionEnding(key);
  return FORMATS.find((f) => f.extensions.some((ext) => base.endsWith(ext)))?.name;
}

/**
 * The compression of an object. The first bytes decide when they carry a known magic number, so a
 * gzip object without `.gz` (or served with Content-Encoding: gzip) is still read; otherwise the key.
 */
export function compressionOf(key: string, head: Uint8Array, contentEncoding?: string): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  const encoding = contentEncoding?.toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'zstd') return 'zstd';
  if (head.length > 0) return 'none';
  const lower = key.toLowerCase();
  return COMPRESSION_ENDINGS.find(([ending]) => lower.endsWith(ending))?.[1] ?? 'none';
}
