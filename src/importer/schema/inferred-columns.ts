import type { ObjectRef } from '../../bucket/list-objects.js';
import { selectRows } from '../../store/queries.js';
import type { ColumnDefinition } from '../../store/table-ddl.js';
import type { ImportContext } from '../import-context.js';
import { castExpressions, keepsExactly } from '../load/cast-expressions.js';
import { LONE_CARRIAGE_RETURN, namedRead } from '../load/raw-read.js';
import { INTAKE, rawColumn } from '../load/split-views.js';
import { isCompositeType, isNullableType, isStringType } from '../probe/column-types.js';
import { inferColumns } from '../probe/infer-columns.js';
import { probeObject, withEngineErrors, type ObjectLayout, type ProbeOptions, type SourceColumn } from '../probe/probe-object.js';
import { releaseConversions } from '../probe/text-encoding.js';

/**
 * The layout and table columns of a reference object (push, preview, generate). A copy the probe
 * converted to UTF-8 is removed afterwards: nothing is loaded from it.
 */
export async function inferObjectColumns(ctx: ImportContext, object: ObjectRef, options: ProbeOptions = {}): Promise<{ layout: ObjectLayout; columns: ColumnDefinition[] }> {
  try {
    const layout = await probeObject(ctx, object, options);
    return { layout, columns: await inferTableColumns(ctx, layout) };
  } finally {
    releaseConversions(ctx);
  }
}

/**
 * The table columns for an object's columns: the types the engine infers, fitted to the store, then
 * widened wherever one of the object's own values would not be kept exactly. The object a schema is
 * inferred from therefore always loads whole under it; later objects may still bring values that do
 * not fit, and those rows are quarantined.
 */
export async function inferTableColumns(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly SourceColumn[] = layout.columns,
): Promise<ColumnDefinition[]> {
  return widenToObject(ctx, layout, await inferColumns(ctx, layout, columns));
}

/**
 * Reads every row of the object through the split's own read and casts, in the worker's engine (which
 * has the wide types), and counts per column the values that would be quarantined, or stored other
 * than written (rounded, cut to whole seconds), under the column's type. Such a column becomes text,
 * which keeps every value as written: the store may lack a type wide enough (a server without
 * DateTime64 holds no date before 1970 but as text, nor one after 2105 where its date library ends
 * there), and no type but text keeps every spelling.
 * Rows the parser cannot split into fields are not counted: no type would load them.
 */
export async function widenToObject(ctx: ImportContext, layout: ObjectLayout, columns: readonly ColumnDefinition[]): Promise<ColumnDefinition[]> {
  const checked = columns.flatMap((c, i) => (isStringType(c.type) ? [] : [i]));
  if (checked.length === 0 || layout.empty) return [...columns];
  const misfits = await countMisfits(ctx, layout, columns, checked);
  const widened = columns.map((c, i) => ((misfits.get(i) ?? 0) > 0 ? { ...c, type: textType(c.type) } : c));
  const changed = widened.filter((c, i) => c !== columns[i]);
  if (changed.length > 0) {
    ctx.log.debug({ stage: 'widen_to_object', object: layout.object.key, columns: changed.map((c) => c.name) }, 'stage');
  }
  return widened;
}

/** Text where a column was typed: Nullable stays Nullable, and so does a composite value (absent is NULL). */
function textType(type: string): string {
  return isNullableType(type) || isCompositeType(type) ? 'Nullable(String)' : 'String';
}

async function countMisfits(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly ColumnDefinition[],
  checked: readonly number[],
): Promise<Map<number, number>> {
  const counts = checked.map((i) => {
    const column = columns[i]!;
    const raw = rawColumn(i);
    // The target's limits: a server whose date library ends with 2105 reads later dates as other ones.
    return `countIf(NOT (${castExpressions(column, raw, ctx.target.split).fits} AND ${keepsExactly(column, raw)}))`;
  });
  const count = async (read: ObjectLayout) => {
    const query = namedRead(ctx, read, columns, 'inference');
    const rows = await selectRows<{ misfits: Array<string | number> }>(
      ctx.engine,
      `SELECT [${counts.join(', ')}] AS misfits FROM (${query.sql}) WHERE ${INTAKE.raw} IS NULL`,
      query.params,
      // Rows the parser cannot split are left out here, as the split sets them aside.
      { ...query.settings, input_format_allow_errors_ratio: 1, input_format_allow_errors_num: 1_000_000_000_000 },
    );
    return rows[0]?.misfits ?? [];
  };
  const misfits = await withEngineErrors(ctx, layout.object, layout.source, async () => {
    try {
      return await count(layout);
    } catch (error) {
      // An NDJSON line with a lone \r inside: read again with lone \r as line ends too, as a load does.
      if (!(error instanceof Error && error.message.includes(LONE_CARRIAGE_RETURN)) || layout.format !== 'ndjson' || layout.jsonArray) throw error;
      return count({ ...layout, loneCarriageReturns: true });
    }
  });
  return new Map(checked.map((index, k) => [index, Number(misfits[k] ?? 0)]));
}
