import type { ImportContext } from '../import-context.js';
import type { ObjectLayout } from '../probe/probe-object.js';
import { castExpressions, type StoreLimits, type TargetColumn } from './cast-expressions.js';
import { baseType, dateTimePrecision, dateTimeRange, dateTimeZone, isDateTimeType, isNullableType, isStringType } from '../probe/column-types.js';
import { fieldColumn, holdsLineBreak, positionalRead, type LineEnd } from '../probe/csv-dialect.js';
import { s3TableFunction } from '../engine-source.js';
import { mapObjectColumns } from '../probe/map-columns.js';
import type { DirectRead } from './raw-read.js';
import { NEEDS_THE_SPLIT } from './checked-insert.js';
import { quoteString } from '../../store/sql.js';
import { taggedInsertHead, taggedSelect } from '../commit.js';


/** How the engine's typed reader takes one column: the type it parses into, and what then must hold. */
interface TypedField {
  /** The type of the field in the read's structure. */
  readType: string;
  /** The stored value, over the field `f`. */
  value(f: string): string;
  /** True when the parsed value is the one the split would store; false stops the read. */
  check(f: string): string;
}

const INT = /^(U?)Int(8|16|32|64)$/;

/**
 * The column types whose parse by the engine's typed reader either fails or gives exactly the value
 * the split's cast gives, once a cheap check has held. Other types (Decimal, Enum, Float32, UUID,
 * composites...) always go through the split.
 *
 * - Integers are parsed as Int128, which holds every 64-bit value, then range-checked: parsed at
 *   their own width the reader wraps (300 into UInt8 is 44).
 * - Dates and times are parsed best effort at millisecond precision or finer, as the split parses
 *   them, then range-checked: parsed at their own type the reader clamps (1850 becomes 1970).
 * - Text is the field as read; a line break in it stops the read, since only the split can tell a
 *   multi-line value from a quote left open that took in the rest of the object.
 */
function typedField(column: TargetColumn, lineEnd: LineEnd, limits: StoreLimits): TypedField | undefined {
  const type = column.type;
  const base = baseType(type);
  const absentDefault = (f: string, fallback: string) => (isNullableType(type) ? `CAST(${f}, ${quoteString(type)})` : `CAST(ifNull(${f}, ${fallback}), ${quoteString(type)})`);
  if (isStringType(type)) {
    return {
      readType: 'Nullable(String)',
      value: (f) => castExpressions(column, f).value,
      check: (f) => `isValidUTF8(assumeNotNull(${f})) AND NOT ${holdsLineBreak(`assumeNotNull(${f})`, lineEnd)}`,
    };
  }
  const int = INT.exec(base);
  if (int) {
    const bits = Number(int[2]);
    const [min, max] = int[1] === 'U' ? [0n, 2n ** BigInt(bits) - 1n] : [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n];
    return {
      readType: 'Nullable(Int128)',
      value: (f) => absentDefault(f, '0'),
      check: (f) => `(${f} IS NULL OR ${f} BETWEEN toInt128('${min}') AND toInt128('${max}'))`,
    };
  }
  if (base === 'Float64') return { readType: 'Nullable(Float64)', value: (f) => absentDefault(f, '0'), check: () => '1' };
  const range = dateTimeRange(type);
  if (isDateTimeType(type) && range) {
    // As the split's check: no later than the store's last instant, where it ends before the type.
    const max = limits.lastInstant !== undefined && limits.lastInstant < range.max ? limits.lastInstant : range.max;
    const parsed = `DateTime64(${Math.max(dateTimePrecision(type), 3)}, ${quoteString(dateTimeZone(type))})`;
    return {
      readType: `Nullable(${parsed})`,
      value: (f) => absentDefault(f, `defaultValueOfTypeName(${quoteString(base)})`),
      check: (f) => `(${f} IS NULL OR ${f} BETWEEN toDateTime64('${range.min}', 3, 'UTC') AND toDateTime64('${max}', 3, 'UTC'))`,
    };
  }
  return undefined;
}

/**
 * A read of one CSV object by the engine's typed reader straight into the data table, without the
 * text round trip of the split: for the common file whose every value fits, about the engine's own
 * speed. Any value the reader cannot parse, or that fails its check, stops the statement with an
 * error; the caller then removes what it wrote and loads the object through the split, which
 * quarantines such rows with their reasons. Undefined when a column's type is not read this way.
 */
export function typedCsvInsert(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], limits: StoreLimits = {}): DirectRead | undefined {
  if (layout.format !== 'csv' || !layout.csv || layout.empty || layout.columns.length === 0) return undefined;
  const fields = columns.map((c) => typedField(c, layout.csv!.lineEnd, limits));
  if (fields.some((f) => f === undefined)) return undefined;
  const { mapping } = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(ctx.datasource.schema));
  const position = new Map(layout.columns.map((c, i) => [c.name, i]));
  const readTypes = layout.columns.map(() => 'Nullable(String)');
  const values: string[] = [];
  const checks: string[] = [];
  columns.forEach((column, i) => {
    const from = mapping.get(column.name);
    if (from === undefined) {
      values.push(castExpressions(column, "CAST(NULL, 'Nullable(String)')").value);
      return;
    }
    const at = position.get(from)!;
    const field = fields[i]!;
    readTypes[at] = field.readType;
    values.push(field.value(fieldColumn(at)));
    checks.push(field.check(fieldColumn(at)));
  });
  if (checks.length === 0) return undefined;
  const read = positionalRead(layout.csv.delimiter, layout.csv.hasHeader, layout.columns.length, layout.csv.lineEnd);
  const structure = readTypes.map((t, i) => `${fieldColumn(i)} ${t}`).join(', ');
  const fn = s3TableFunction(layout.source, read.format, structure);
  const names = columns.map((c) => c.name);
  const from = `FROM ${fn.sql} WHERE throwIf(NOT (${checks.join(' AND ')}), ${quoteString(NEEDS_THE_SPLIT)}) = 0`;
  return {
    sql: `${taggedInsertHead(names, values)} ${from}`,
    select: taggedSelect(names, values, from),
    params: fn.params,
    // Text in date and time fields is read as the split reads it, best effort.
    settings: { ...read.settings, date_time_input_format: 'best_effort' },
  };
}
