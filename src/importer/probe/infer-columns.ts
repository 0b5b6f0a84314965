import { selectRows } from '../../store/queries.js';
import type { ColumnDefinition } from '../../store/table-ddl.js';
import { isNullableType, isNumericType, isStringType, makeNullable } from './column-types.js';
import { fieldColumn, positionalRead } from './csv-dialect.js';
import { s3TableFunction } from '../engine-source.js';
import type { ImportContext } from '../import-context.js';
import type { ServerCapabilities } from '../../store/server-capabilities.js';
import { INFERENCE_ROWS, type ObjectLayout, type SourceColumn } from './probe-object.js';

/**
 * Table columns for an object's columns, as inferred by the engine, corrected where CSV inference is
 * wrong for data work: numbers written with leading zeros (zip codes, ids) stay text, and a column
 * with empty fields is Nullable (the engine reads an empty CSV field as a default, not a null), then
 * fitted to the store (`forStore`). Whether the object's own values fit them is checked after, in
 * `schema/inferred-columns.ts`.
 */
export async function inferColumns(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly SourceColumn[] = layout.columns,
): Promise<ColumnDefinition[]> {
  const facts = layout.format === 'csv' ? await csvValueFacts(ctx, layout, columns) : new Map<string, ValueFacts>();
  return columns.map((c) => {
    const fact = facts.get(c.name);
    let type = c.type;
    if (fact?.leadingZeros) type = isNullableType(type) ? 'Nullable(String)' : 'String';
    if (fact?.empty && !isStringType(type)) type = makeNullable(type);
    return { name: c.name, type: forStore(type, ctx.store.capabilities) };
  });
}

interface ValueFacts {
  leadingZeros: boolean;
  empty: boolean;
}

async function csvValueFacts(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly SourceColumn[],
): Promise<Map<string, ValueFacts>> {
  const typed = columns.filter((c) => !isStringType(c.type));
  if (typed.length === 0 || !layout.csv) return new Map();
  const read = positionalRead(layout.csv.delimiter, layout.csv.hasHeader, layout.columns.length, layout.csv.lineEnd);
  const fn = s3TableFunction(layout.source, read.format, read.structure);
  const position = new Map(layout.columns.map((c, i) => [c.name, i]));
  const checks = typed.map((c) => {
    const v = `ifNull(${fieldColumn(position.get(c.name)!)}, '')`;
    return `[countIf(match(${v}, '^[+-]?0[0-9]')), countIf(trimBoth(${v}) = '' OR lowerUTF8(${v}) = 'null')]`;
  });
  const rows = await selectRows<{ facts: Array<Array<string | number>> }>(
    ctx.engine,
    `SELECT [${checks.join(', ')}] AS facts FROM (SELECT * FROM ${fn.sql} LIMIT ${INFERENCE_ROWS})`,
    fn.params,
    { ...read.settings, input_format_allow_errors_ratio: 1, input_format_allow_errors_num: 1000000000 },
  );
  const facts = rows[0]?.facts ?? [];
  return new Map(
    typed.map((c, i) => [
      c.name,
      {
        leadingZeros: isNumericType(c.type) && Number(facts[i]?.[0] ?? 0) > 0,
        empty: Number(facts[i]?.[1] ?? 0) > 0,
      },
    ]),
  );
}

/** Columns that later objects bring: always Nullable, since earlier rows have no value for them. */
export function evolvedColumns(columns: readonly ColumnDefinition[]): ColumnDefinition[] {
  return columns.map((c) => ({ name: c.name, type: makeNullable(c.type) }));
}

/**
 * An inferred type the store can hold: older servers get whole-second DateTime, Date for Date32 and
 * UInt8 booleans. These hold fewer values (DateTime 1970 to 2106, Date 1970 to 2149): a column whose
 * values they do not hold is widened afterwards (see `schema/inferred-columns.ts`).
 */
export function forStore(type: string, capabilities: ServerCapabilities): string {
  let fitted = type;
  if (!capabilities.dateTime64) fitted = fitted.replace(/DateTime64\(\s*\d+\s*(,\s*('[^']*')\s*)?\)/g, (_m, _tz, zone: string | undefined) => (zone ? `DateTime(${zone})` : 'DateTime'));
  if (!capabilities.date32) fitted = fitted.replace(/\bDate32\b/g, 'Date');
  if (!capabilities.bool) fitted = fitted.replace(/\bBool\b/g, 'UInt8');
  return fitted;
}
