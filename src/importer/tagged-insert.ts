import type { QuerySettings } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { IMPORT_TAG_COLUMN } from './table-names.js';

/**
 * The head of a direct read's `INSERT INTO table …`: the data columns and the import tag, then the
 * SELECT of their values, the tag bound as `bp_import_id`. Writing the tag with the rows saves the two
 * ALTERs that set and clear the tag column's default around a load through the split.
 */
export function taggedInsertHead(names: readonly string[], values: readonly string[]): string {
  return `(${[...names, IMPORT_TAG_COLUMN].map(quoteIdentifier).join(', ')}) SELECT ${[...values, '{bp_import_id:String}'].join(', ')}`;
}

/** How such an INSERT runs: the tag's value bound, and the MATERIALIZED tag column open to it. */
export function taggedInsertBinding(importId: string): { params: Record<string, string>; settings: QuerySettings } {
  return { params: { bp_import_id: importId }, settings: { insert_allow_materialized_columns: 1 } };
}
