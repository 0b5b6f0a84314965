import type { ImportContext } from '../import-context.js';
import { layoutUri } from './load-result.js';
import type { ObjectLayout } from '../probe/probe-object.js';
import type { TargetColumn } from './cast-expressions.js';
import { baseType, isCompositeType, isStringType } from '../probe/column-types.js';
import { fieldColumn, positionalRead } from '../probe/csv-dialect.js';
import { s3TableFunction } from '../engine-source.js';
import { defaultJsonPath, parseJsonPath } from '../probe/json-path.js';
import { mapColumns, mapObjectColumns } from '../probe/map-columns.js';
import type { QuerySettings } from '../../store/queries.js';
import { quoteIdentifier, quoteString } from '../../store/sql.js';
import { INTAKE, rawColumn } from './split-views.js';
import { importFormat } from '../../formats.js';

/**
 * The columns a Parquet read declares: none (the engine reads them from the footer) unless the URL is
 * a pattern, where the engine would take them from the first object it matches, not this one.
 */
export function parquetStructure(layout: ObjectLayout): string | undefined {
  if (layout.source.exactPath === undefined) return undefined;
  return layout.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
}

/** A query that reads an object: its SQL text, its bound values and the settings it needs. */
export interface ReadQuery {
  sql: string;
  params: Record<string, string>;
  settings: QuerySettings;
}

/**
 * A direct read of one object into the data table: the tail of its `INSERT INTO table …` (`sql`), and
 * the same rows as a SELECT whose columns are named as the table's (`select`), which a server's
 * insert takes from the worker's engine.
 */
export interface DirectRead extends ReadQuery {
  select: { sql: string; columns: string[] };
}

/** The read of one object, with the import id and source URI it tags its rows with. */
export function namedRead(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string): ReadQuery {
  const read = readQuery(ctx, layout, columns);
  return { ...read, params: { ...read.params, bp_import_id: importId, bp_source: layoutUri(layout) } };
}

/** The raw text values of an object's rows, one per table column, named as in the split's intake. */
export function readQuery(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[]): ReadQuery {
  const tail = `{bp_import_id:String} AS ${INTAKE.importId}, {bp_source:String} AS ${INTAKE.source}`;
  if (layout.format === 'ndjson') return ndjsonReadQuery(ctx, layout, columns, tail);
  const mapping = mapColumns(columns.map((c) => c.name), layout.columns.map((c) => c.name));
  const sourceTypes = new Map(layout.columns.map((c) => [c.name, c.type]));
  if (layout.format === 'parquet') {
    const values = columns.map((c) => {
      const from = mapping.get(c.name);
      if (from === undefined) return ABSENT;
      const type = sourceTypes.get(from) ?? 'String';
      if (isStringType(type)) return quoteIdentifier(from);
      if (isCompositeType(type)) return `toJSONString(${quoteIdentifier(from)})`;
      // An instant travels as ISO 8601 in UTC, so no time zone can shift it on the way.
      if (/^DateTime/.test(baseType(type))) return `formatDateTime(${quoteIdentifier(from)}, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')`;
      return `toString(${quoteIdentifier(from)})`;
    });
    const fn = s3TableFunction(layout.source, importFormat(layout.format).engineFormat, parquetStructure(layout));
    return {
      sql: `SELECT ${[...rawValues(values), rowTail('_row_number + 1', ABSENT, "''"), tail].join(', ')} FROM ${fn.sql}`,
      params: fn.params,
      settings: {},
    };
  }
  const csv = layout.csv!;
  const byPosition = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(ctx.datasource.schema)).mapping;
  // The header is read as a row and dropped here: the engine's numbering of the rows after a header
  // it skips itself is one too high past the first block it parses in parallel.
  const read = positionalRead(csv.delimiter, false, layout.columns.length, csv.lineEnd);
  const fn = s3TableFunction(layout.source, read.format, read.structure);
  const position = new Map(layout.columns.map((c, i) => [c.name, i]));
  const values = columns.map((c) => {
    const from = byPosition.get(c.name);
    return from === undefined ? ABSENT : fieldColumn(position.get(from)!);
  });
  const rowNumber = csv.hasHeader ? '_row_number' : '_row_number + 1';
  return {
    sql: `SELECT ${[...rawValues(values), rowTail(rowNumber, ABSENT, "''"), tail].join(', ')} FROM ${fn.sql}${csv.hasHeader ? ' WHERE _row_number > 0' : ''}`,
    params: fn.params,
    settings: read.settings,
  };
}

/** A value the object does not have, typed as the values it does have. */
const ABSENT = "CAST(NULL, 'Nullable(String)')";

/**
 * The raw values, named as in the intake: a read is also the inner query of a checked insert, which
 * refers to them by name.
 */
function rawValues(values: readonly string[]): string[] {
  return values.map((v, i) => `${v} AS ${rawColumn(i)}`);
}

/** The row's number, its raw text when it could not be split into values, and why. */
function rowTail(row: string, raw: string, problem: string): string {
  return `${row} AS ${INTAKE.row}, ${raw} AS ${INTAKE.raw}, ${problem} AS ${INTAKE.rawProblem}`;
}

function ndjsonReadQuery(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly TargetColumn[],
  tail: string,
): ReadQuery {
  const declared = new Map((ctx.datasource.schema ?? []).map((c) => [c.name, c.jsonPath]));
  const params: Record<string, string> = {};
  const paths = columns.map((c) => parseJsonPath(declared.get(c.name) ?? defaultJsonPath(c.name)) ?? [c.name]);
  // Top-level keys come out of one parse of the line, as a tuple of texts; deeper paths one by one.
  // So does the key "" (`json:$['']`): a tuple element cannot have an empty name.
  const isTopKey = (p: ReadonlyArray<string | number>) => p.length === 1 && typeof p[0] === 'string' && p[0] !== '';
  const topKeys = [...new Set(paths.filter(isTopKey).map((p) => p[0] as string))];
  params.jp_tuple = `Tuple(${topKeys.map((k) => `${quoteIdentifier(k)} Nullable(String)`).join(', ')})`;
  const values = paths.map((path, i) => {
    if (isTopKey(path)) return `tupleElement(top, ${topKeys.indexOf(path[0] as string) + 1})`;
    const args = path.map((segment, j) => {
      if (typeof segment === 'number') return String(segment + 1);
      params[`jp_${i}_${j}`] = segment;
      return `{jp_${i}_${j}:String}`;
    });
    const at = ['line', ...args].join(', ');
    // The JSON text of the value: strings are unescaped, objects and arrays stay JSON.
    return `multiIf(JSONExtractRaw(${at}) IN ('', 'null'), NULL, startsWith(JSONExtractRaw(${at}), '"'), JSONExtractString(${at}), JSONExtractRaw(${at}))`;
  });
  const top = topKeys.length > 0 ? ', JSONExtract(line, {jp_tuple:String}) AS top' : '';
  // A line that is no JSON object but holds a lone \r its head did not show stops the read (only such
  // lines are looked at), and the object is read again with lone \r as line ends too (see loadObjects)
  // rather than lose its lines to the quarantine as one. The elements of a JSON array have no lines.
  const notAnObject = layout.loneCarriageReturns || layout.jsonArray
    ? "'the line is not a JSON object'"
    : `if(throwIf(NOT valid AND ${HOLDS_LONE_CR}, ${quoteString(LONE_CARRIAGE_RETURN)}) = 0, 'the line is not a JSON object', '')`;
  const outer = `SELECT ${[...rawValues(values), rowTail('n + 1', 'if(valid, NULL, line)', `if(valid, '', ${notAnObject})`), tail].join(', ')} `;
  // JSONType parses the whole line: anything but a well-formed object is 'Null', 'Array', and so on.
  // A line that starts an object and yielded a key was parsed whole already (the parser checks the
  // whole line), so only lines that yielded nothing are parsed again to tell `{}` from broken text.
  const isObject =
    topKeys.length === 0
      ? "JSONType(line) = 'Object'"
      : `(startsWith(trimLeft(line), '{') AND (${topKeys.map((_, k) => `tupleElement(top, ${k + 1}) IS NOT NULL`).join(' OR ')} OR JSONType(line) = 'Object'))`;
  if (layout.jsonArray) {
    // One JSON array of objects: the engine hands over each element; numbers are element places.
    const fn = s3TableFunction(layout.source, 'JSONAsString', 'line String');
    return { sql: `${outer}FROM (SELECT line, _row_number AS n${top}, ${isObject} AS valid FROM ${fn.sql})`, params: { ...fn.params, ...params }, settings: {} };
  }
  const fn = s3TableFunction(layout.source, 'LineAsString', 'raw String');
  // A UTF-8 byte order mark before the first line is not part of its JSON.
  const raw = "if(_row_number = 0, replaceOne(raw, '\\xEF\\xBB\\xBF', ''), raw)";
  const lines = layout.loneCarriageReturns
    ? linesSplitAtCarriageReturns(raw, fn.sql)
    : `SELECT ${raw} AS line, _row_number FROM ${fn.sql}`;
  const sql =
    `${outer}FROM (SELECT line, _row_number AS n${top}, ${isObject} AS valid ` +
    `FROM (${lines}) ` +
    `WHERE NOT match(line, '^\\\\s*$'))`;
  return { sql, params: { ...fn.params, ...params }, settings: {} };
}

/** The message of the check that stops an NDJSON read at a line with a lone `\r` inside. */
export const LONE_CARRIAGE_RETURN = 'bucketpipe: a line ends in a lone carriage return';

/** A `\r` before the line's last character (a `\r\n` leaves its `\r` last). */
const HOLDS_LONE_CR = "position(line, '\\r') BETWEEN 1 AND length(line) - 1";

/**
 * The lines of an NDJSON object whose lines may also end in a lone `\r`: the engine cuts at `\n`,
 * each piece is cut again at its `\r`s, and every line is numbered by its place in the file (the
 * lone `\r`s of the pieces before it, summed in file order, moving it down).
 */
function linesSplitAtCarriageReturns(raw: string, source: string): string {
  const pieces = `SELECT splitByChar('\\r', if(endsWith(${raw}, '\\r'), substring(${raw}, 1, length(${raw}) - 1), ${raw})) AS parts, _row_number FROM ${source}`;
  const numbered =
    'SELECT parts, _row_number + sum(length(parts) - 1) OVER (ORDER BY _row_number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS first ' +
    `FROM (${pieces})`;
  return `SELECT part AS line, toUInt64(first + i - 1) AS _row_number FROM (${numbered}) ARRAY JOIN parts AS part, arrayEnumerate(parts) AS i`;
}

/**
 * The same query with every `{name:Type}` placeholder and its value renamed to `name<suffix>`, so
 * reads of several objects can share one statement.
 */
export function withParamSuffix(read: ReadQuery, suffix: string): ReadQuery {
  const names = Object.keys(read.params);
  const sql = read.sql.replace(/\{([A-Za-z0-9_]+):/g, (whole, name: string) => (names.includes(name) ? `{${name}${suffix}:` : whole));
  return { sql, params: Object.fromEntries(Object.entries(read.params).map(([k, v]) => [`${k}${suffix}`, v])), settings: read.settings };
}
