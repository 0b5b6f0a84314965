/**
 * What bucketpipe knows of each data format, in one record per format: the names a datafile may write,
 * the engine's format names, the key endings, the content type. Compression is orthogonal to format
 * (`csv` + `gzip` → `.csv.gz`), so it is a record of its own. The project parser, the importer and the
 * exporter all read these records; this module imports nothing of theirs.
 */

/** `IMPORT_FORMAT` as stored. */
export type ImportFormat = 'csv' | 'ndjson' | 'parquet';
/** `EXPORT_FORMAT` as stored: JSON lines keep the name exports have always written. */
export type ExportFormat = 'csv' | 'jsonl' | 'parquet';

export interface FormatRecord {
  /** The name `IMPORT_FORMAT` stores. */
  importName: ImportFormat;
  /** The name `EXPORT_FORMAT` stores. */
  exportName: ExportFormat;
  /** Every name a datafile may write for it, lower-case; matched case-insensitively. */
  writtenNames: readonly string[];
  /** The engine's format for files without a header row. */
  engineFormat: 'CSV' | 'JSONEachRow' | 'Parquet';
  /** The engine's format for files whose first row names the columns, where the format has one. */
  engineFormatWithNames?: 'CSVWithNames';
  /** Key endings read as this format (after any compression ending is removed). */
  extensions: readonly string[];
  /** The ending an export writes, without the dot and before any compression ending. */
  writeExtension: string;
  /** The content type of an uncompressed file. */
  contentType: string;
  /** Parquet compresses inside the file, so no compression goes around it. */
  compressesItself: boolean;
}

export const FORMATS: readonly FormatRecord[] = [
  {
    importName: 'csv',
    exportName: 'csv',
    writtenNames: ['csv'],
    engineFormat: 'CSV',
    engineFormatWithNames: 'CSVWithNames',
    extensions: ['.csv', '.tsv', '.txt'],
    writeExtension: 'csv',
    contentType: 'text/csv',
    compressesItself: false,
  },
  {
    importName: 'ndjson',
    exportName: 'jsonl',
    writtenNames: ['ndjson', 'jsonl', 'json'],
    engineFormat: 'JSONEachRow',
    extensions: ['.ndjson', '.jsonl', '.json'],
    writeExtension: 'jsonl',
    contentType: 'application/x-ndjson',
    compressesItself: false,
  },
  {
    importName: 'parquet',
    exportName: 'parquet',
    writtenNames: ['parquet'],
    engineFormat: 'Parquet',
    extensions: ['.parquet', '.pq'],
    writeExtension: 'parquet',
    contentType: 'application/vnd.apache.parquet',
    compressesItself: true,
  },
];

/** The format a datafile names, whatever the case; undefined when it names none. */
export function formatNamed(written: string): FormatRecord | undefined {
  const lower = written.toLowerCase();
  return FORMATS.find((f) => f.writtenNames.includes(lower));
}

export function importFormat(name: ImportFormat): FormatRecord {
  return FORMATS.find((f) => f.importName === name)!;
}

export function exportFormat(name: ExportFormat): FormatRecord {
  return FORMATS.find((f) => f.exportName === name)!;
}

/** The engine's format for a file of this format; `withNames`: its first row names the columns, where the format has such a row. */
export function engineFormatOf(format: FormatRecord, withNames = false): string {
  return withNames && format.engineFormatWithNames ? format.engineFormatWithNames : format.engineFormat;
}

/** How an object is compressed, as read. */
export type Compression = 'none' | 'gzip' | 'zstd';
/** `EXPORT_COMPRESSION`: what an export may write around csv and jsonl. */
export type ExportCompression = 'none' | 'gzip';

export interface CompressionRecord {
  name: Exclude<Compression, 'none'>;
  /** Key endings read as this compression; the first is the one written. */
  endings: readonly string[];
  contentType: string;
}

export const COMPRESSIONS: readonly CompressionRecord[] = [
  { name: 'gzip', endings: ['.gz', '.gzip'], contentType: 'application/gzip' },
  { name: 'zstd', endings: ['.zst', '.zstd'], contentType: 'application/zstd' },
];

function withoutCompressionEnding(key: string): string {
  const lower = key.toLowerCase();
  for (const c of COMPRESSIONS) for (const ending of c.endings) if (lower.endsWith(ending)) return lower.slice(0, -ending.length);
  return lower;
}

/** The format of an object: the datasource's IMPORT_FORMAT, else the key's extension. */
export function formatOfKey(key: string, declared?: ImportFormat): ImportFormat | undefined {
  if (declared) return declared;
  const base = withoutCompressionEnding(key);
  return FORMATS.find((f) => f.extensions.some((ext) => base.endsWith(ext)))?.importName;
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
  return COMPRESSIONS.find((c) => c.endings.some((ending) => lower.endsWith(ending)))?.name ?? 'none';
}

/** The export settings that decide how a file is encoded (a part of `ExportSpec`). */
export interface EncodingSettings {
  format: ExportFormat;
  compression: ExportCompression;
  csvHeader: boolean;
  csvDelimiter: string;
  parquetCompression: 'zstd' | 'snappy' | 'none';
  parquetRowGroupSize?: number;
}

/** How one export file is encoded by the engine. */
export interface EncodedFormat {
  /** The engine's output format. */
  engineFormat: string;
  /** The file ending without the dot, compression included: `csv`, `csv.gz`, `jsonl`, `parquet`. */
  extension: string;
  /** The engine's compression argument for the file it writes. */
  compression: ExportCompression;
  contentType: string;
  settings: Record<string, string | number>;
}

export function encodedFormat(spec: EncodingSettings): EncodedFormat {
  const format = exportFormat(spec.format);
  const compression = format.compressesItself ? 'none' : spec.compression;
  const around = COMPRESSIONS.find((c) => c.name === compression);
  return {
    engineFormat: engineFormatOf(format, spec.csvHeader),
    extension: `${format.writeExtension}${around?.endings[0] ?? ''}`,
    compression,
    contentType: around?.contentType ?? format.contentType,
    settings: formatSettings(format, spec),
  };
}

function formatSettings(format: FormatRecord, spec: EncodingSettings): Record<string, string | number> {
  if (format.exportName === 'parquet') {
    const settings: Record<string, string | number> = { output_format_parquet_compression_method: spec.parquetCompression };
    if (spec.parquetRowGroupSize) settings.output_format_parquet_row_group_size = spec.parquetRowGroupSize;
    return settings;
  }
  if (format.exportName === 'csv') return { format_csv_delimiter: spec.csvDelimiter };
  return {};
}
