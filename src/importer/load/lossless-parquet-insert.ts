import type { ObjectLayout } from '../probe/probe-object.js';
import type { StoreLimits, TargetColumn } from './cast-expressions.js';
import { baseType, convertsLosslessly, dateTimePrecision, dateTimeRange, isDateTimeType, isNullableType } from '../probe/column-types.js';
import { s3TableFunction } from '../engine-source.js';
import { mapColumns } from '../probe/map-columns.js';
import { quoteIdentifier, quoteString } from '../../store/sql.js';
import { parquetStructure, type DirectRead } from './raw-read.js';
import { taggedInsertHead, taggedSelect } from '../commit.js';
import { importFormat } from '../../formats.js';
import { NEEDS_THE_SPLIT } from './checked-insert.js';

/**
 * A Parquet object whose column types convert losslessly to the table's cannot hold a value that does
 * not fit: it is inserted as it is, at the engine's own speed, without the text round trip of the
 * split. Table columns the object lacks take their defaults; NULL in a non-Nullable column too.
 * A store that ends before its date and time types do (`limits.lastInstant`) can be given a time it
 * does not take: such objects are read with checks instead (`timeCheckedParquetInsert`).
 */
export function losslessParquetInsert(layout: ObjectLayout, columns: readonly TargetColumn[], limits: StoreLimits = {}): DirectRead | undefined {
  const pairs = mappedPairs(layout, columns);
  if (!pairs || pairs.some((p) => !convertsLosslessly(p.type, p.target.type))) return undefined;
  if (limits.lastInstant !== undefined && pairs.some((p) => isDateTimeType(p.target.type))) return undefined;
  return parquetInsert(layout, pairs, []);
}

/**
 * A Parquet object whose columns convert losslessly except for times that the table holds with less
 * range or precision (`DateTime64(3)` into `DateTime`, or any time where the store ends before its
 * type: `limits.lastInstant`): the times are cast as they are, and a time outside what the split
 * takes stops the read (the caller then loads the object through the split). Within that range the
 * cast is the split's: the split reads such a time as its text at millisecond precision, which names
 * the same instant, and casts that to the column's type, which cuts the same fraction off.
 */
export function timeCheckedParquetInsert(layout: ObjectLayout, columns: readonly TargetColumn[], limits: StoreLimits = {}): DirectRead | undefined {
  const pairs = mappedPairs(layout, columns);
  if (!pairs) return undefined;
  const checks: string[] = [];
  for (const p of pairs) {
    const timeToTime = isTime(p.type) && isTime(p.target.type);
    if (!convertsLosslessly(p.type, p.target.type) && !(timeToTime && dateTimePrecision(p.type) <= 3)) return undefined;
    if (!isDateTimeType(p.target.type)) continue;
    // Dates compare with times in the session's zone: a Date column is left to the checked read.
    if (!timeToTime) return undefined;
    const range = dateTimeRange(p.target.type)!;
    const max = limits.lastInstant !== undefined && limits.lastInstant < range.max ? limits.lastInstant : range.max;
    const from = quoteIdentifier(p.from);
    checks.push(`(${from} IS NULL OR ${from} BETWEEN toDateTime64('${range.min}', 3, 'UTC') AND toDateTime64('${max}', 3, 'UTC'))`);
  }
  if (checks.length === 0) return undefined;
  return parquetInsert(layout, pairs, checks);
}

interface Pair {
  target: TargetColumn;
  /** The object's column that feeds it, and that column's type. */
  from: string;
  type: string;
}

const isTime = (type: string) => /^DateTime(64)?(\(|$)/.test(baseType(type));

function mappedPairs(layout: ObjectLayout, columns: readonly TargetColumn[]): Pair[] | undefined {
  if (layout.format !== 'parquet') return undefined;
  const sourceTypes = new Map(layout.columns.map((c) => [c.name, c.type]));
  const mapping = mapColumns(columns.map((c) => c.name), layout.columns.map((c) => c.name));
  const pairs = columns.filter((c) => mapping.has(c.name)).map((c) => ({ target: c, from: mapping.get(c.name)!, type: sourceTypes.get(mapping.get(c.name)!)! }));
  return pairs.length === 0 ? undefined : pairs;
}

function parquetInsert(layout: ObjectLayout, pairs: readonly Pair[], checks: readonly string[]): DirectRead {
  const values = pairs.map((p) => {
    const value = isNullableType(p.type) && !isNullableType(p.target.type) ? `ifNull(${quoteIdentifier(p.from)}, defaultValueOfTypeName(${quoteString(baseType(p.target.type))}))` : quoteIdentifier(p.from);
    return p.type === p.target.type ? value : `CAST(${value}, ${quoteString(p.target.type)})`;
  });
  const fn = s3TableFunction(layout.source, importFormat(layout.format).engineFormat, parquetStructure(layout));
  const names = pairs.map((p) => p.target.name);
  const where = checks.length > 0 ? ` WHERE throwIf(NOT (${checks.join(' AND ')}), ${quoteString(NEEDS_THE_SPLIT)}) = 0` : '';
  const from = `FROM ${fn.sql}${where}`;
  return {
    sql: `${taggedInsertHead(names, values)} ${from}`,
    select: taggedSelect(names, values, from),
    params: fn.params,
    settings: {},
  };
}
