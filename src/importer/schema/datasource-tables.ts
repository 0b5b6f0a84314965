import type { ClickHouseClient } from '@clickhouse/client';
import { objectUri } from '../../bucket/bucket-uri.js';
import type { ObjectRef } from '../../bucket/list-objects.js';
import type { DatasourceSpec } from '../../project/types.js';
import { now } from '../../clock.js';
import { INTERNAL_TABLES, toDateTime64 } from '../../store/internal-tables.js';
import type { VersionSource } from '../../store/versions.js';
import { insertRows, runStatement, selectRows } from '../../store/queries.js';
import { dataTableStatements, EMBEDDED_DATA_TABLE_SETTINGS, quarantineTableSql, readTableColumns, type ColumnDefinition } from '../../store/table-ddl.js';
import { quarantineTableName } from '../../store/table-names.js';
import type { ServerCapabilities } from '../../store/server-capabilities.js';
import type { ClusterLayout } from '../../store/cluster-layout.js';

/** Creates the data and quarantine tables of a datasource with these columns (no-op where they exist). */
export async function createDatasourceTables(
  store: { client: ClickHouseClient; cluster?: ClusterLayout; kind: 'embedded' | 'server'; capabilities: ServerCapabilities },
  spec: DatasourceSpec,
  columns: readonly ColumnDefinition[],
  versions: VersionSource,
  reference?: ObjectRef,
  /** Without a SCHEMA: whether the reference object's first row was decided a header (CSV only). */
  csvHeader?: boolean,
): Promise<void> {
  const client = store.client;
  const defaults = store.kind === 'embedded' ? EMBEDDED_DATA_TABLE_SETTINGS : {};
  const options = { cluster: store.cluster, defaultSettings: defaults, tagSource: store.capabilities.ephemeralColumns };
  for (const statement of dataTableStatements(spec.name, columns, spec.engine, options)) await runStatement(client, statement);
  await runStatement(client, quarantineTableSql(spec.name, columns, undefined, store.cluster));
  await insertRows(client, INTERNAL_TABLES.datasources, [
    {
      name: spec.name,
      inferred: spec.schema ? 0 : 1,
      reference_object: reference ? objectUri(reference.bucket, reference.key) : '',
      csv_header: csvHeader === undefined ? '' : String(csvHeader),
      updated_at: toDateTime64(now()),
      version: versions.nextVersion(),
    },
  ]);
}

/** Creates a missing quarantine table for an existing data table (e.g. dropped by hand). */
export async function ensureQuarantineTable(
  store: { client: ClickHouseClient; cluster?: ClusterLayout },
  datasource: string,
  columns: readonly ColumnDefinition[],
): Promise<boolean> {
  if (await readTableColumns(store.client, quarantineTableName(datasource))) return false;
  await runStatement(store.client, quarantineTableSql(datasource, columns, undefined, store.cluster));
  return true;
}

/** What was recorded when a datasource's tables were made. */
export interface DatasourceRecord {
  /** The object its schema was inferred from, if it was. */
  reference?: string;
  /** Whether the first row of its CSV objects is a header, as decided on the reference object. */
  csvHeader?: boolean;
}

export async function datasourceRecord(client: ClickHouseClient, datasource: string): Promise<DatasourceRecord> {
  const rows = await selectRows<{ reference_object: string; csv_header: string }>(
    client,
    `SELECT argMax(reference_object, version) AS reference_object, argMax(csv_header, version) AS csv_header
     FROM ${INTERNAL_TABLES.datasources} WHERE name = {name:String} GROUP BY name`,
    { name: datasource },
  );
  const row = rows[0];
  return {
    reference: row?.reference_object || undefined,
    csvHeader: row?.csv_header === 'true' ? true : row?.csv_header === 'false' ? false : undefined,
  };
}
