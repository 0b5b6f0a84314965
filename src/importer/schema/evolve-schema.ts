import { addColumns, loadableColumns, readTableColumns } from '../../store/table-ddl.js';
import type { ImportContext } from '../import-context.js';
import type { Event } from '../import-run.js';
import type { TargetColumn } from '../load/cast-expressions.js';
import { evolvedColumns } from '../probe/infer-columns.js';
import { inferTableColumns } from './inferred-columns.js';
import { defaultJsonPath, parseJsonPath } from '../probe/json-path.js';
import { mapObjectColumns, unmappedColumns } from '../probe/map-columns.js';
import type { ObjectLayout } from '../probe/probe-object.js';
import { assertStorable } from './target-columns.js';

/** The table's columns after an object's evolution, and the ones it added. */
export interface Evolution {
  columns: TargetColumn[];
  added: string[];
}

/**
 * Fits the table to one object before it loads. Without a SCHEMA, the columns it brings that the
 * table lacks are added; with one, they are left out. Tells what was matched by position, added,
 * or not imported.
 */
export async function evolveSchema(ctx: ImportContext, layout: ObjectLayout, columns: TargetColumn[], uri: string, event: Event): Promise<Evolution> {
  const spec = ctx.datasource;
  let added: string[] = [];
  const matched = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(spec.schema));
  if (matched.byPosition) {
    event(uri, 'info', 'columns_by_position', `${uri} shares no column name with the SCHEMA of ${spec.name}; its columns were matched by position`);
  }
  const extra = unmappedColumns(matched.mapping, layout.columns.map((c) => c.name));
  if (extra.length > 0 && !spec.schema) {
    const newColumns = evolvedColumns(await inferTableColumns(ctx, layout, layout.columns.filter((c) => extra.includes(c.name))));
    await assertStorable(ctx, newColumns, uri);
    await addColumns(ctx.store, spec.name, newColumns);
    columns = loadableColumns((await readTableColumns(ctx.store.client, spec.name))!);
    added = newColumns.map((c) => c.name);
    event(uri, 'info', 'columns_added', `${uri} brought new columns; added to ${spec.name}: ${newColumns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  } else if (extra.length > 0 && layout.format !== 'ndjson') {
    event(uri, 'info', 'columns_ignored', `${uri} has columns the SCHEMA of ${spec.name} does not declare; they were not imported: ${extra.join(', ')}`);
  }
  if (ignoresEmptyKey(ctx, layout)) {
    event(uri, 'warn', 'empty_key_ignored', `${uri} has the key "" (an empty name), which no column of ${spec.name} reads, so its values were not imported; to import them, declare a column with \`json:$['']\` in the SCHEMA of ${spec.location.file}`);
  }
  return { columns, added };
}

/** An NDJSON object with the key "" that no SCHEMA column reads (`json:$['']`): its values would go unseen. */
export function ignoresEmptyKey(ctx: ImportContext, layout: ObjectLayout): boolean {
  if (!layout.emptyKey) return false;
  return !(ctx.datasource.schema ?? []).some((c) => parseJsonPath(c.jsonPath ?? defaultJsonPath(c.name))?.[0] === '');
}
