import type { ObjectRef } from '../../bucket/list-objects.js';
import { objectUri } from '../../bucket/bucket-uri.js';
import { readObjectHead } from '../../bucket/read-object-head.js';
import { BucketpipeError } from '../../errors.js';
import type { ImportFormat } from '../../project/types.js';
import { selectRows, type QuerySettings } from '../../store/queries.js';
import { delimitedFormat, fieldColumn, headerOfKnownColumns, isGenericColumnNames, lineEndOf, positionalRead, sniffDelimiter, splitCsvLine, uniqueColumnNames, type LineEnd } from './csv-dialect.js';
import { headerEvidence, namesColumns, type HeaderRule } from './csv-header.js';
import { firstLineOf as firstLineOfHead, headText, holdsLoneCarriageReturn, type HeadText } from './head-text.js';
import { describeTarget, OBJECT_CHANGED_MARK, redact, s3TableFunction, sourceSecrets, type ObjectSource } from '../engine-source.js';
import { compressionOf, formatOfKey, importFormat } from '../../formats.js';
import { convertToUtf8, engineByteOrderMark } from './text-encoding.js';
import { objectSource, type ImportContext } from '../import-context.js';

/** A column an object carries, with the type the engine infers for it. */
export interface SourceColumn {
  name: string;
  type: string;
}

/** How to read one object: everything the engine needs besides the target table. */
export interface ObjectLayout {
  object: ObjectRef;
  format: ImportFormat;
  source: ObjectSource;
  /** The object's columns in file order. Empty for an empty object. */
  columns: SourceColumn[];
  /** CSV only. `lineEnd`: how its lines end, from the first one. */
  csv?: { delimiter: string; hasHeader: boolean; lineEnd: LineEnd };
  /**
   * CSV only: the first row, when nothing could tell whether it is a header (text over text, no rule
   * decided): it is read as data, and push, preview and a first sync say so.
   */
  ambiguousHeader?: Array<string | null>;
  /** NDJSON only: the object is one JSON array of objects (a `.json` export) rather than one object per line. */
  jsonArray?: boolean;
  /** NDJSON only: its lines end in a lone `\r` too (seen in its head, or by a read that met one). */
  loneCarriageReturns?: boolean;
  /**
   * NDJSON only: its head has the key `""`, which the engine's inference leaves out (no column can be
   * named so): its values land only where a SCHEMA column reads `json:$['']`.
   */
  emptyKey?: boolean;
  /** The object has no bytes at all. */
  empty: boolean;
}

/** A JSON key `""`: an empty string followed by a colon is a key, nothing else. */
const EMPTY_KEY = /(?<!\\)""\s*:/;

/** Rows the engine reads to infer types, as its own default. */
export const INFERENCE_ROWS = 25000;

/** Bytes read from the start of each object: enough for a header line and the format's signs. */
const HEAD_BYTES = 64 * 1024;

export interface ProbeOptions {
  /** Infer NDJSON columns (datasources without a SCHEMA); declared json paths need no inference. Default true. */
  describeJson?: boolean;
  /** The target table's columns: a CSV header naming only these is read without asking the engine. */
  knownColumns?: readonly string[];
  /** How a CSV object's first row is told from data; default `evidence` (a reference object). */
  csvHeader?: HeaderRule;
}

/** Reads an object's head and, through the engine where the head is not enough, its columns. */
export async function probeObject(ctx: ImportContext, object: ObjectRef, options: ProbeOptions = {}): Promise<ObjectLayout> {
  const uri = objectUri(object.bucket, object.key);
  const format = formatOfKey(object.key, ctx.datasource.import.format);
  if (!format) {
    throw new BucketpipeError(
      'OBJECT_UNREADABLE',
      `${uri}: cannot tell its format from the key; set IMPORT_FORMAT csv, ndjson or parquet in ${ctx.datasource.location.file}.`,
      { context: { datasource: ctx.datasource.name, bucket: object.bucket, key: object.key } },
    );
  }
  if (format === 'parquet') {
    // The engine reads a Parquet object's columns from its footer; its head tells nothing more.
    const source = objectSource(ctx, object, 'none');
    if (object.size === 0) return { object, format, source, columns: [], empty: true };
    return withEngineErrors(ctx, object, source, async () => ({ object, format, source, columns: await describe(ctx, source, importFormat(format).engineFormat, {}), empty: false }));
  }
  const head = object.size === 0 ? { bytes: new Uint8Array() } : await readObjectHead(ctx.access, object.bucket, object.key, HEAD_BYTES);
  const stored = objectSource(ctx, object, compressionOf(object.key, head.bytes, head.contentEncoding));
  if (head.bytes.length === 0) return { object, format, source: stored, columns: [], empty: true };
  const text = headText(head.bytes, stored.compression, head.bytes.length < HEAD_BYTES);
  return withEngineErrors(ctx, object, stored, async () => {
    // UTF-16 and UTF-32 text is converted to UTF-8 once; every read after this one reads the copy.
    const mark = text ? text.mark : await engineByteOrderMark(ctx, stored);
    const source = mark ? await convertToUtf8(ctx, object, stored, mark) : stored;
    if (format === 'csv') return probeCsv(ctx, object, source, text, options);
    const start = text ? text.text : await firstLineOf(ctx, source);
    const jsonArray = start.replace(/^\uFEFF/, '').trimStart().startsWith('[');
    const loneCarriageReturns = !jsonArray && holdsLoneCarriageReturn(text ?? { text: start, complete: false });
    const described = options.describeJson ?? true ? await describeNdjson(ctx, source) : [];
    // The engine names the key "" as a column at some times and leaves it out at others; no table
    // column can have that name.
    const columns = described.filter((c) => c.name !== '');
    const emptyKey = columns.length < described.length || EMPTY_KEY.test(text?.text ?? start);
    return { object, format, source, columns, jsonArray, loneCarriageReturns, emptyKey, empty: false };
  });
}

/** Rows read to weigh whether a first row is a header (the engine's own test looks at as few). */
const HEADER_SAMPLE_ROWS = 100;

async function probeCsv(ctx: ImportContext, object: ObjectRef, source: ObjectSource, head: HeadText | undefined, options: ProbeOptions): Promise<ObjectLayout> {
  // The engine's first line ends at a \n only: a lone \r in it ends the file's first line.
  const start = head && firstLineOfHead(head) !== undefined ? head : { text: await firstLineOf(ctx, source), complete: false };
  const firstLine = firstLineOfHead(start) ?? start.text;
  const lineEnd = lineEndOf(start.text, start.complete);
  const delimiter = sniffDelimiter(firstLine);
  const rule = options.csvHeader ?? { kind: 'evidence' };
  const layout = (hasHeader: boolean, columns: SourceColumn[], ambiguousHeader?: Array<string | null>): ObjectLayout => ({
    object, format: 'csv', source, columns, csv: { delimiter, hasHeader, lineEnd }, empty: false, ...(ambiguousHeader ? { ambiguousHeader } : {}),
  });
  // Without a header, the fields are named by place (c1, c2, …) and typed over every row.
  const headerless = async () => layout(false, await describe(ctx, source, delimitedFormat(delimiter, false, lineEnd).format, { ...delimitedFormat(delimiter, false, lineEnd).settings, ...NO_HEADER_DETECTION }));
  if (rule.kind === 'decided' && !rule.hasHeader) return headerless();
  const known = options.knownColumns && headerOfKnownColumns(firstLine, delimiter, options.knownColumns);
  // Types are only inferred for new columns, and a header of known columns brings none.
  if (known) return layout(true, known.map((name) => ({ name, type: 'String' })));
  if (rule.kind === 'names') {
    // With a SCHEMA nothing is inferred: the names of the first row decide, and types do not matter.
    const firstRow = splitCsvLine(firstLine.replace(/^\uFEFF/, ''), delimiter) ?? (await firstRows(ctx, source, delimiter, lineEnd, 1))[0] ?? [];
    if (!namesColumns(firstRow, rule.columns)) return headerless();
    return layout(true, uniqueColumnNames(firstRow).map((name) => ({ name, type: 'String' })));
  }
  const detecting = delimitedFormat(delimiter, false, lineEnd);
  const detected = await describe(ctx, source, detecting.format, { ...detecting.settings, input_format_csv_detect_header: 1, input_format_custom_detect_header: 1 });
  // The engine found a header because the first row's types differ from the rest's.
  if (!isGenericColumnNames(detected.map((c) => c.name))) return layout(true, detected);

  // The engine refuses headers with repeated or empty names, and cannot tell over all-text rows: the
  // rows themselves are weighed here, unless IMPORT_CSV_HEADER true or the datasource's decision says.
  const rows = await firstRows(ctx, source, delimiter, lineEnd, HEADER_SAMPLE_ROWS, detected.length);
  const firstRow = rows[0] ?? [];
  const evidence = rule.kind === 'decided' ? 'header' : headerEvidence(firstRow, rows.slice(1));
  if (evidence !== 'header') return layout(false, detected, evidence === 'ambiguous' ? firstRow : undefined);
  const names = uniqueColumnNames(firstRow);
  if (rows.length < 2) return layout(true, names.map((name) => ({ name, type: 'Nullable(String)' })));
  const types = await describeAfterHeader(ctx, source, delimiter, lineEnd);
  return layout(true, names.map((name, i) => ({ name, type: types[i]?.type ?? 'Nullable(String)' })));
}

const NO_HEADER_DETECTION = { input_format_csv_detect_header: 0, input_format_custom_detect_header: 0 } as const;

/**
 * The first rows of a delimited object, field by field as text. The field count is the engine's, from
 * an inference without a header, unless given.
 */
async function firstRows(ctx: ImportContext, source: ObjectSource, delimiter: string, lineEnd: LineEnd, count: number, fieldCount?: number): Promise<Array<Array<string | null>>> {
  const width = fieldCount ?? (await describe(ctx, source, delimitedFormat(delimiter, false, lineEnd).format, { ...delimitedFormat(delimiter, false, lineEnd).settings, ...NO_HEADER_DETECTION })).length;
  if (width === 0) return [];
  const read = positionalRead(delimiter, false, width, lineEnd);
  const fn = s3TableFunction(source, read.format, read.structure);
  const fields = Array.from({ length: width }, (_, i) => fieldColumn(i));
  const rows = await selectRows<Record<string, string | number | null>>(
    ctx.engine,
    `SELECT ${fields.join(', ')}, _row_number AS n FROM ${fn.sql} LIMIT ${count}`,
    fn.params,
    // A malformed row further down must not stop a look at the first ones; rows of another width are
    // read as far as they go.
    {
      ...read.settings,
      input_format_csv_allow_variable_number_of_columns: 1,
      input_format_custom_allow_variable_number_of_columns: 1,
      input_format_allow_errors_ratio: 1,
      input_format_allow_errors_num: 1_000_000_000,
    },
  );
  // A first row the parser skipped is not weighed at all: the row it would be taken for is another.
  if (rows.length > 0 && Number(rows[0]!.n) !== 0) return [];
  return rows.map((row) => fields.map((f) => (row[f] === null || row[f] === undefined ? null : String(row[f]))));
}

/** Types by position of the rows after the header; the tab-separated reader cannot skip it, so text. */
async function describeAfterHeader(ctx: ImportContext, source: ObjectSource, delimiter: string, lineEnd: LineEnd): Promise<SourceColumn[]> {
  if (delimiter === '\t') return [];
  const read = delimitedFormat(delimiter, false, lineEnd);
  return describe(ctx, source, read.format, { ...read.settings, input_format_csv_skip_first_lines: 1, input_format_csv_detect_header: 0 });
}

async function firstLineOf(ctx: ImportContext, source: ObjectSource): Promise<string> {
  const fn = s3TableFunction(source, 'LineAsString', 'line String');
  const rows = await selectRows<{ line: string }>(ctx.engine, `SELECT line FROM ${fn.sql} LIMIT 1`, fn.params);
  return rows[0]?.line ?? '';
}

/** The engine's schema inference over one object. Names keep every character but a leading BOM. */
export async function describe(
  ctx: ImportContext,
  source: ObjectSource,
  format: string,
  settings: QuerySettings,
): Promise<SourceColumn[]> {
  // Unpinned: a description of a table function, not of a query (which would name its row number too);
  // the load that follows is pinned.
  const fn = describeTarget(source, format);
  const rows = await selectRows<{ name: string; type: string }>(ctx.engine, `DESCRIBE TABLE ${fn.sql}`, fn.params, {
    schema_inference_make_columns_nullable: 'auto',
    input_format_max_rows_to_read_for_schema_inference: INFERENCE_ROWS,
    input_format_json_read_objects_as_strings: 1,
    // Otherwise nested objects become Tuples shaped by the reference rows, and later keys are lost.
    input_format_json_try_infer_named_tuples_from_objects: 0,
    // A malformed row must not stop inference; the import quarantines it later.
    input_format_csv_allow_variable_number_of_columns: 1,
    ...settings,
  });
  return rows.map((r, i) => ({ name: i === 0 ? r.name.replace(/^\uFEFF/, '') : r.name, type: r.type }));
}

/**
 * NDJSON inference; a broken line makes the engine give up, so on failure the types are inferred
 * from the object's first valid lines instead.
 */
async function describeNdjson(ctx: ImportContext, source: ObjectSource): Promise<SourceColumn[]> {
  const engineFormat = importFormat('ndjson').engineFormat;
  try {
    return await describe(ctx, source, engineFormat, {});
  } catch {
    const fn = s3TableFunction(source, 'LineAsString', 'line String');
    const lines = await selectRows<{ line: string }>(
      ctx.engine,
      `SELECT line FROM ${fn.sql} WHERE isValidJSON(line) AND JSONType(line) = 'Object' LIMIT 1000`,
      fn.params,
    );
    if (lines.length === 0) return [];
    const rows = await selectRows<{ name: string; type: string }>(
      ctx.engine,
      `DESCRIBE TABLE format({sample_format:String}, {sample:String})`,
      { sample_format: engineFormat, sample: lines.map((l) => l.line).join('\n') },
      { schema_inference_make_columns_nullable: 'auto', input_format_json_read_objects_as_strings: 1, input_format_json_try_infer_named_tuples_from_objects: 0 },
    );
    return rows.map((r) => ({ name: r.name, type: r.type }));
  }
}

/** Engine failures while reading an object become errors that name it, with secrets scrubbed. */
export async function withEngineErrors<T>(
  ctx: ImportContext,
  object: ObjectRef,
  source: ObjectSource,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BucketpipeError) throw error;
    throw explainEngineReadError(ctx, object, source, error);
  }
}

export function explainEngineReadError(ctx: ImportContext, object: ObjectRef, source: ObjectSource, error: unknown): BucketpipeError {
  const uri = objectUri(object.bucket, object.key);
  const raw = redact(error instanceof Error ? error.message : String(error), sourceSecrets(source));
  const firstLine = raw.split('\n')[0]!.replace(/: In scope .*$/s, '').slice(0, 600);
  const context = { datasource: ctx.datasource.name, bucket: object.bucket, key: object.key };
  if (/Access Denied|InvalidAccessKeyId|SignatureDoesNotMatch|HTTP response code: 403/i.test(raw)) {
    return new BucketpipeError('S3_CREDENTIALS', `${uri}: the engine was refused access (${firstLine}). Check the connection's credentials.`, { context });
  }
  if (raw.includes(OBJECT_CHANGED_MARK) || /replaced during read|ETag.*changed|changed during read/i.test(raw)) {
    return new BucketpipeError('OBJECT_CHANGED', `${uri} was replaced after it was listed (listed with ETag ${object.etag}); nothing of it was kept, and the next run imports the new version.`, { context });
  }
  if (/Timeout|Connection refused|Connection reset|HTTP response code: 5\d\d|SlowDown|NETWORK_ERROR|Poco::Exception/i.test(raw)) {
    return new BucketpipeError('S3_TRANSIENT', `${uri}: reading the object failed for now (${firstLine}); it will be retried.`, { context });
  }
  return new BucketpipeError('OBJECT_UNREADABLE', `${uri}: the object cannot be read: ${firstLine}`, { context });
}
