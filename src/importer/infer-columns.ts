import { selectRows } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import type { ColumnDefinition } from '../store/table-ddl.js';
import { isNullableType, isNumericType, makeNullable } from './column-types.js';
import { s3TableFunction } from './engine-source.js';
import type { ImportContext } from './import-context.js';
import { INFERENCE_ROWS, type ObjectLayout, type SourceColumn } from './probe-object.js';

/**
 * Table columns for an object's columns, as inferred by the engine, corrected where inference is
 * wrong for data work: numbers written with leading zeros (zip codes, ids) stay text.
 */
export async function inferColumns(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly SourceColumn[] = layout.columns,
): Promise<ColumnDefinition[]> {
  const zeroPadded = layout.format === 'csv' ? await columnsWithLeadingZeros(ctx, layout, columns) : new Set<string>();
  return columns.map((c) => ({
    name: c.name,
    type: zeroPadded.has(c.name) ? (isNullableType(c.type) ? 'Nullable(String)' : 'String') : c.type,
  }));
}

async function columnsWithLeadingZeros(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly SourceColumn[],
): Promise<Set<string>> {
  const numeric = columns.filter((c) => isNumericType(c.type));
  if (numeric.length === 0 || !layout.csv) return new Set();
  const structure = layout.columns.map((c) => `${quoteIdentifier(c.name)} Nullable(String)`).join(', ');
  const fn = s3TableFunction(layout.source, layout.csv.hasHeader ? 'CSVWithNames' : 'CSV', structure);
  const checks = numeric.map((c) => `countIf(match(ifNull(${quoteIdentifier(c.name)}, ''), '^[+-]?0[0-9]'))`);
  const rows = await selectRows<{ counts: Array<string | number> }>(
    ctx.store.client,
    `SELECT [${checks.join(', ')}] AS counts FROM (SELECT * FROM ${fn.sql} LIMIT ${INFERENCE_ROWS})`,
    fn.params,
    { format_csv_delimiter: layout.csv.delimiter, input_format_allow_errors_ratio: 1, input_format_allow_errors_num: 1000000000 },
  );
  const counts = rows[0]?.counts ?? [];
  return new Set(numeric.filter((_, i) => Number(counts[i] ?? 0) > 0).map((c) => c.name));
}

/** Columns that later objects bring: always Nullable, since earlier rows have no value for them. */
export function evolvedColumns(columns: readonly ColumnDefinition[]): ColumnDefinition[] {
  return columns.map((c) => ({ name: c.name, type: makeNullable(c.type) }));
}
