import type { ObjectLayout } from '../probe/probe-object.js';
import type { StoreLimits, TargetColumn } from './cast-expressions.js';
import { baseType, convertsLosslessly, isDateTimeType, isNullableType } from '../probe/column-types.js';
import { s3TableFunction } from '../engine-source.js';
import { mapColumns } from '../probe/map-columns.js';
import { quoteIdentifier, quoteString } from '../../store/sql.js';
import { parquetStructure, type DirectRead } from './raw-read.js';
import { taggedInsertHead, taggedSelect } from '../commit.js';
import { importFormat } from '../../formats.js';

/**
 * A Parquet object whose column types convert losslessly to the table's cannot hold a value that does
 * not fit: it is inserted as it is, at the engine's own speed, without the text round trip of the
 * split. Table columns the object lacks take their defaults; NULL in a non-Nullable column too.
 * A store that ends before its date and time types do (`limits.lastInstant`) can be given a time it
 * does not take: such objects are read with checks instead.
 */
export function losslessParquetInsert(layout: ObjectLayout, columns: readonly TargetColumn[], limits: StoreLimits = {}): DirectRead | undefined {
  if (layout.format !== 'parquet') return undefined;
  const sourceTypes = new Map(layout.columns.map((c) => [c.name, c.type]));
  const mapping = mapColumns(columns.map((c) => c.name), layout.columns.map((c) => c.name));
  const pairs = columns.filter((c) => mapping.has(c.name)).map((c) => ({ target: c, from: mapping.get(c.name)!, type: sourceTypes.get(mapping.get(c.name)!)! }));
  if (pairs.length === 0 || pairs.some((p) => !convertsLosslessly(p.type, p.target.type))) return undefined;
  if (limits.lastInstant !== undefined && pairs.some((p) => isDateTimeType(p.target.type))) return undefined;
  const values = pairs.map((p) => {
    const value = isNullableType(p.type) && !isNullableType(p.target.type) ? `ifNull(${quoteIdentifier(p.from)}, defaultValueOfTypeName(${quoteString(baseType(p.target.type))}))` : quoteIdentifier(p.from);
    return p.type === p.target.type ? value : `CAST(${value}, ${quoteString(p.target.type)})`;
  });
  const fn = s3TableFunction(layout.source, importFormat(layout.format).engineFormat, parquetStructure(layout));
  const names = pairs.map((p) => p.target.name);
  const from = `FROM ${fn.sql}`;
  return {
    sql: `${taggedInsertHead(names, values)} ${from}`,
    select: taggedSelect(names, values, from),
    params: fn.params,
    settings: {},
  };
}
