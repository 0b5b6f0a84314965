import type { ExportSpec } from '../project/types.js';
import type { QuerySettings } from '../store/queries.js';

/** How one export file is encoded by the engine. A format is a record; compression is orthogonal. */
export interface EncodedFormat {
  /** The engine's output format. */
  engineFormat: string;
  /** The file ending without the dot, compression included: `csv`, `csv.gz`, `jsonl`, `parquet`. */
  extension: string;
  /** The engine's compression argument for the file it writes. */
  compression: 'none' | 'gzip';
  contentType: string;
  settings: QuerySettings;
}

export function encodedFormat(spec: ExportSpec): EncodedFormat {
  if (spec.format === 'parquet') {
    const settings: QuerySettings = { output_format_parquet_compression_method: spec.parquetCompression };
    if (spec.parquetRowGroupSize) settings.output_format_parquet_row_group_size = spec.parquetRowGroupSize;
    return { engineFormat: 'Parquet', extension: 'parquet', compression: 'none', contentType: 'application/vnd.apache.parquet', settings };
  }
  const gzip = spec.compression === 'gzip';
  const ending = gzip ? '.gz' : '';
  if (spec.format === 'jsonl') {
    return {
      engineFormat: 'JSONEachRow',
      extension: `jsonl${ending}`,
      compression: spec.compression,
      contentType: gzip ? 'application/gzip' : 'application/x-ndjson',
      settings: {},
    };
  }
  return {
    engineFormat: spec.csvHeader ? 'CSVWithNames' : 'CSV',
    extension: `csv${ending}`,
    compression: spec.compression,
    contentType: gzip ? 'application/gzip' : 'text/csv',
    settings: { format_csv_delimiter: spec.csvDelimiter },
  };
}
