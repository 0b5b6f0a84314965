/** Names of the tables a datasource owns. The data table has the datasource's own name. */

export function quarantineTableName(datasource: string): string {
  return `${datasource}_quarantine`;
}

/** Hidden column of every data table that says which import wrote a row (lineage and exactly-once). */
export const IMPORT_TAG_COLUMN = '_bp_import_id';
