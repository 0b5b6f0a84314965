import type { ClickHouseClient } from '@clickhouse/client';
import type { Project } from '../project/types.js';
import { selectRows } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { readTableColumns } from '../store/table-ddl.js';

/** A datasource of the project files, and whether its table is in the store. */
export interface DatasourceListing {
  name: string;
  file: string;
  /** IMPORT_SCHEDULE; empty without IMPORT_* settings. */
  schedule: string;
  /** IMPORT_BUCKET_URI; empty without IMPORT_* settings. */
  bucket_uri: string;
  table: 'created' | 'not pushed';
  /** Rows in the table; null when it is not pushed. */
  rows: number | null;
}

/** The datasources of the files, in their order, each with its table's row count. */
export async function listDatasources(client: ClickHouseClient, project: Project): Promise<DatasourceListing[]> {
  const rows: DatasourceListing[] = [];
  for (const spec of project.datasources.values()) {
    const columns = await readTableColumns(client, spec.name);
    const count = columns
      ? Number((await selectRows<{ n: string }>(client, `SELECT count() AS n FROM ${quoteIdentifier(spec.name)}`))[0]?.n ?? 0)
      : null;
    rows.push({
      name: spec.name,
      file: spec.location.file,
      schedule: spec.import?.schedule ?? '',
      bucket_uri: spec.import?.bucketUri ?? '',
      table: columns ? 'created' : 'not pushed',
      rows: count,
    });
  }
  return rows;
}
