import type { ClickHouseClient } from '@clickhouse/client';
import type { EngineSpec } from '../project/types.js';
import { IMPORT_TAG_COLUMN, IMPORT_TAG_SOURCE, quarantineTableName } from './table-names.js';
import { selectRows, runStatement } from './queries.js';
import { quoteIdentifier } from './sql.js';

/** A column to create. */
export interface ColumnDefinition {
  name: string;
  type: string;
  defaultExpression?: string;
}

export interface ExistingColumn {
  name: string;
  type: string;
  /** `''`, `DEFAULT`, `MATERIALIZED`, `ALIAS`, `EPHEMERAL`. */
  defaultKind: string;
  /** The default's expression as the engine shows it (`''` for an empty text), or empty. */
  defaultExpression?: string;
}

/** The columns of a table in definition order (system.columns' own order), or undefined when there is no such table. */
export async function readTableColumns(client: ClickHouseClient, table: string): Promise<ExistingColumn[] | undefined> {
  const rows = await selectRows<{ name: string; type: string; default_kind: string; default_expression: string }>(
    client,
    `SELECT name, type, default_kind, default_expression FROM system.columns
     WHERE database = currentDatabase() AND table = {table:String}`,
    { table },
  );
  if (rows.length > 0) return rows.map((r) => ({ name: r.name, type: r.type, defaultKind: r.default_kind, defaultExpression: r.default_expression }));
  const exists = await selectRows<{ n: string }>(
    client,
    `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {table:String}`,
    { table },
  );
  return Number(exists[0]?.n ?? 0) > 0 ? [] : undefined;
}

/**
 * Gives a data table made before the tag had a source of its own (a table-wide default was set and
 * reset around each load) the EPHEMERAL source column. Its stored tags stay as they are.
 */
export async function ensureTagSource(store: { client: ClickHouseClient; cluster?: string }, table: string, columns: readonly ExistingColumn[]): Promise<void> {
  if (columns.some((c) => c.name === IMPORT_TAG_SOURCE)) return;
  const on = onCluster(store.cluster);
  await runStatement(store.client, `ALTER TABLE ${quoteIdentifier(table)}${on} ADD COLUMN ${quoteIdentifier(IMPORT_TAG_SOURCE)} String EPHEMERAL ''`);
  await runStatement(store.client, `ALTER TABLE ${quoteIdentifier(table)}${on} MODIFY COLUMN ${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ${quoteIdentifier(IMPORT_TAG_SOURCE)}`);
}

/** The columns rows are loaded into: all but the import tag and computed ones. */
export function loadableColumns(columns: readonly ExistingColumn[]): ExistingColumn[] {
  return columns.filter((c) => c.name !== IMPORT_TAG_COLUMN && (c.defaultKind === '' || c.defaultKind === 'DEFAULT'));
}

function columnSql(c: ColumnDefinition): string {
  return `${quoteIdentifier(c.name)} ${c.type}${c.defaultExpression ? ` DEFAULT ${c.defaultExpression}` : ''}`;
}

/**
 * The data table. Engine clauses are the datasource's own SQL expressions, as in its file. The hidden
 * import tag column says which import wrote each row; it is not part of `SELECT *`. (A String: its
 * value is one per part, which compresses to almost nothing, and every server version has it.) Where
 * the store has EPHEMERAL columns, the tag takes its value from one that each insert fills.
 */
export function dataTableSql(
  name: string,
  columns: readonly ColumnDefinition[],
  engine: EngineSpec,
  options: { cluster?: string; defaultSettings?: Readonly<Record<string, string>>; tagSource?: boolean } = {},
): string {
  const engineCall = `${engine.engine}(${engine.engineArgs.join(', ')})`;
  const tag = options.tagSource
    ? [`${quoteIdentifier(IMPORT_TAG_SOURCE)} String EPHEMERAL ''`, `${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ${quoteIdentifier(IMPORT_TAG_SOURCE)}`]
    : [`${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ''`];
  const parts = [
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(name)}${onCluster(options.cluster)} (`,
    [...columns.map(columnSql), ...tag].join(',\n  '),
    `) ENGINE = ${engineCall}`,
    engine.partitionKey ? `PARTITION BY ${engine.partitionKey}` : '',
    `ORDER BY ${engine.sortingKey ? `(${engine.sortingKey})` : 'tuple()'}`,
    engine.primaryKey ? `PRIMARY KEY (${engine.primaryKey})` : '',
    engine.ttl ? `TTL ${engine.ttl}` : '',
    settingsClause(engine.settings, options.defaultSettings ?? {}),
  ];
  return parts.filter(Boolean).join('\n');
}

/** ENGINE_SETTINGS as written, then each default setting they do not name. */
function settingsClause(own: string | undefined, defaults: Readonly<Record<string, string>>): string {
  const named = new Set([...(own ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=/g)].map((m) => m[1]!.toLowerCase()));
  const added = Object.entries(defaults).filter(([k]) => !named.has(k.toLowerCase())).map(([k, v]) => `${k} = ${v}`);
  const all = [own?.trim(), ...added].filter(Boolean);
  return all.length > 0 ? `SETTINGS ${all.join(', ')}` : '';
}

/**
 * MergeTree settings of the data tables in the embedded store, where merges run in the worker's own
 * memory. Merges one column at a time whatever the table's width (the engine does so from 11
 * columns): a merge of whole rows holds a read buffer for every column of every part it merges, so
 * the worker's peak grew with the rows of an import (Parquet, 3,000,000 rows: 528 → 486 MiB;
 * 10,000,000: 599 → 529 MiB), and these merges were also faster.
 */
export const EMBEDDED_DATA_TABLE_SETTINGS: Readonly<Record<string, string>> = { vertical_merge_algorithm_min_columns_to_activate: '1' };

/** The quarantine table: every column as text, plus why the row was set aside and where it came from. */
export function quarantineTableSql(
  datasource: string,
  columns: readonly ColumnDefinition[],
  name = quarantineTableName(datasource),
  cluster?: string,
): string {
  const cols = [
    ...columns.map((c) => `${quoteIdentifier(c.name)} Nullable(String)`),
    'c__error_column Array(String)',
    'c__error Array(String)',
    'c__import_id String',
    'c__source String',
    'c__row UInt64',
    'c__raw Nullable(String)',
    'insertion_date DateTime DEFAULT now()',
  ];
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(name)}${onCluster(cluster)} (\n  ${cols.join(',\n  ')}\n) ` +
    'ENGINE = MergeTree PARTITION BY toYYYYMM(insertion_date) ORDER BY c__import_id'
  );
}

/**
 * Adds columns to the data table (after its last loaded column, before the hidden tag) and, as
 * text, to its quarantine table (before the c__ columns).
 */
export async function addColumns(
  store: { client: ClickHouseClient; cluster?: string },
  datasource: string,
  columns: readonly ColumnDefinition[],
): Promise<void> {
  if (columns.length === 0) return;
  const on = onCluster(store.cluster);
  await addColumnsAfter(store.client, datasource, on, columns.map((c) => ({ name: c.name, sql: columnSql(c) })), (c) => c.name !== IMPORT_TAG_COLUMN && c.name !== IMPORT_TAG_SOURCE);
  await addColumnsAfter(
    store.client,
    quarantineTableName(datasource),
    on,
    columns.map((c) => ({ name: c.name, sql: `${quoteIdentifier(c.name)} Nullable(String)` })),
    (c) => !c.name.startsWith('c__') && c.name !== 'insertion_date',
  );
}

async function addColumnsAfter(
  client: ClickHouseClient,
  table: string,
  on: string,
  additions: ReadonlyArray<{ name: string; sql: string }>,
  isDataColumn: (c: ExistingColumn) => boolean,
): Promise<void> {
  const existing = (await readTableColumns(client, table)) ?? [];
  let last = existing.filter(isDataColumn).at(-1)?.name;
  const clauses: string[] = [];
  // Old servers know no ADD COLUMN IF NOT EXISTS: the existing columns are skipped here instead.
  const present = new Set(existing.map((c) => c.name));
  for (const addition of additions.filter((a) => !present.has(a.name))) {
    clauses.push(`ADD COLUMN ${addition.sql} ${last === undefined ? 'FIRST' : `AFTER ${quoteIdentifier(last)}`}`);
    last = addition.name;
  }
  if (clauses.length === 0) return;
  await runStatement(client, `ALTER TABLE ${quoteIdentifier(table)}${on} ${clauses.join(', ')}`);
}

/** A local staging table of the worker's engine: the table's loaded columns, nothing else. */
export function stagingTableSql(name: string, columns: readonly ColumnDefinition[]): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(name)} (${columns.map(columnSql).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`;
}

/** ` ON CLUSTER name` for DDL with BUCKETPIPE_CLICKHOUSE_CLUSTER, else nothing. */
export function onCluster(cluster?: string): string {
  return cluster ? ` ON CLUSTER ${quoteIdentifier(cluster)}` : '';
}
