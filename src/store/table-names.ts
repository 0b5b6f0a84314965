/** Names of the tables a datasource owns. The data table has the datasource's own name. */

export function quarantineTableName(datasource: string): string {
  return `${datasource}_quarantine`;
}

/** Hidden column of every data table that says which import wrote a row (lineage and exactly-once). */
export const IMPORT_TAG_COLUMN = '_bp_import_id';

/**
 * Where the tag comes from in stores that have EPHEMERAL columns: a column that is never stored, that
 * the split's view fills with each row's import id and that the tag column takes as its value. Each
 * row carries its own attempt's id, with no table-wide default to set and reset around a load.
 */
export const IMPORT_TAG_SOURCE = '_bp_import_src';
