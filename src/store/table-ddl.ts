import type { ClickHouseClient } from '@clickhouse/client';
import type { EngineSpec } from '../project/types.js';
import { IMPORT_TAG_COLUMN, IMPORT_TAG_SOURCE, quarantineTableName } from './table-names.js';
import { selectRows, runStatement } from './queries.js';
import { quoteIdentifier } from './sql.js';
import { isSharded, replicatedEngineCall, shardLocalName, type ClusterLayout } from './cluster-layout.js';

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
export async function ensureTagSource(store: { client: ClickHouseClient; cluster?: ClusterLayout }, table: string, columns: readonly ExistingColumn[]): Promise<void> {
  if (columns.some((c) => c.name === IMPORT_TAG_SOURCE)) return;
  for (const target of columnAlters(store.cluster, table)) {
    await runStatement(store.client, `ALTER TABLE ${target}ADD COLUMN ${quoteIdentifier(IMPORT_TAG_SOURCE)} String EPHEMERAL ''`);
    await runStatement(store.client, `ALTER TABLE ${target}MODIFY COLUMN ${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ${quoteIdentifier(IMPORT_TAG_SOURCE)}`);
  }
}

/** The columns rows are loaded into: all but the import tag and computed ones. */
export function loadableColumns(columns: readonly ExistingColumn[]): ExistingColumn[] {
  return columns.filter((c) => c.name !== IMPORT_TAG_COLUMN && (c.defaultKind === '' || c.defaultKind === 'DEFAULT'));
}

function columnSql(c: ColumnDefinition): string {
  return `${quoteIdentifier(c.name)} ${c.type}${c.defaultExpression ? ` DEFAULT ${c.defaultExpression}` : ''}`;
}

/** How a datasource's data table is made. */
export interface DataTableOptions {
  /** The cluster it lives on: replicated within each shard, and spread over the shards where there are several. */
  cluster?: ClusterLayout;
  defaultSettings?: Readonly<Record<string, string>>;
  /** The store has EPHEMERAL columns: the tag takes its value from a source column each insert fills. */
  tagSource?: boolean;
}

/**
 * The statements that make a datasource's data table. Engine clauses are the datasource's own SQL
 * expressions, as in its file. The hidden import tag column says which import wrote each row; it is
 * not part of `SELECT *`. (A String: its value is one per part, which compresses to almost nothing,
 * and every server version has it.) Where the store has EPHEMERAL columns, the tag takes its value
 * from one that each insert fills.
 *
 * On a cluster of one shard the table is replicated to every node. With several shards, each shard holds its
 * part of the rows in a shard-local table and a Distributed table named as the datasource stands in
 * front, spreading rows by ENGINE_SHARDING_KEY (default `rand()`). There the tag is an ordinary column
 * of the shard-local tables: a Distributed insert passes a MATERIALIZED column to a remote shard but
 * not to the local one (18.16), and it stays hidden in the Distributed table users read.
 */
export function dataTableStatements(name: string, columns: readonly ColumnDefinition[], engine: EngineSpec, options: DataTableOptions = {}): string[] {
  const cluster = options.cluster;
  const hiddenTag = options.tagSource && !isSharded(cluster)
    ? [`${quoteIdentifier(IMPORT_TAG_SOURCE)} String EPHEMERAL ''`, `${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ${quoteIdentifier(IMPORT_TAG_SOURCE)}`]
    : [`${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED ''`];
  const keys = [
    engine.partitionKey ? `PARTITION BY ${engine.partitionKey}` : '',
    `ORDER BY ${engine.sortingKey ? `(${engine.sortingKey})` : 'tuple()'}`,
    engine.primaryKey ? `PRIMARY KEY (${engine.primaryKey})` : '',
    engine.ttl ? `TTL ${engine.ttl}` : '',
    settingsClause(engine.settings, options.defaultSettings ?? {}),
  ];
  const table = (tableName: string, tag: readonly string[], engineCall: string, clauses: readonly string[]) =>
    [`CREATE TABLE IF NOT EXISTS ${clusterTableName(cluster, tableName)}${onCluster(cluster)} (`, [...columns.map(columnSql), ...tag].join(',\n  '), `) ENGINE = ${engineCall}`, ...clauses]
      .filter(Boolean)
      .join('\n');
  if (!cluster) return [table(name, hiddenTag, `${engine.engine}(${engine.engineArgs.join(', ')})`, keys)];
  if (!isSharded(cluster)) return [table(name, hiddenTag, replicatedEngineCall(cluster, name, 'every-node', engine.engine, engine.engineArgs), keys)];
  const local = shardLocalName(name);
  const distributed = `Distributed(${quoteIdentifier(cluster.name)}, ${quoteIdentifier(cluster.database)}, ${quoteIdentifier(local)}, ${engine.shardingKey ?? 'rand()'})`;
  return [
    table(local, [`${quoteIdentifier(IMPORT_TAG_COLUMN)} String DEFAULT ''`], replicatedEngineCall(cluster, local, 'shard', engine.engine, engine.engineArgs), keys),
    table(name, hiddenTag, distributed, []),
  ];
}

/** One data table as a user would make it by hand (no cluster): the statement of `dataTableStatements`. */
export function dataTableSql(name: string, columns: readonly ColumnDefinition[], engine: EngineSpec, options: Omit<DataTableOptions, 'cluster'> = {}): string {
  return dataTableStatements(name, columns, engine, options)[0]!;
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
  cluster?: ClusterLayout,
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
    `CREATE TABLE IF NOT EXISTS ${clusterTableName(cluster, name)}${onCluster(cluster)} (\n  ${cols.join(',\n  ')}\n) ` +
    `ENGINE = ${cluster ? replicatedEngineCall(cluster, name, 'every-node', 'MergeTree', []) : 'MergeTree'} PARTITION BY toYYYYMM(insertion_date) ORDER BY c__import_id`
  );
}

/**
 * Adds columns to the data table (after its last loaded column, before the hidden tag) and, as
 * text, to its quarantine table (before the c__ columns).
 */
export async function addColumns(
  store: { client: ClickHouseClient; cluster?: ClusterLayout },
  datasource: string,
  columns: readonly ColumnDefinition[],
): Promise<void> {
  if (columns.length === 0) return;
  const isDataColumn = (c: ExistingColumn) => c.name !== IMPORT_TAG_COLUMN && c.name !== IMPORT_TAG_SOURCE;
  // A shard-local table is read where the statement runs: every node has the same columns.
  const sharded = isSharded(store.cluster);
  const tables = sharded ? [shardLocalName(datasource), datasource] : [datasource];
  for (const table of tables) {
    await addColumnsAfter(store.client, table, alterHead(store.cluster, table, sharded), columns.map((c) => ({ name: c.name, sql: columnSql(c) })), isDataColumn);
  }
  const quarantine = quarantineTableName(datasource);
  await addColumnsAfter(
    store.client,
    quarantine,
    alterHead(store.cluster, quarantine, false),
    columns.map((c) => ({ name: c.name, sql: `${quoteIdentifier(c.name)} Nullable(String)` })),
    (c) => !c.name.startsWith('c__') && c.name !== 'insertion_date',
  );
}

/**
 * `ALTER TABLE t ` or `ALTER TABLE t ON CLUSTER c `. A replicated table passes an ALTER to its other
 * replicas itself, and runs it while a replica is down, so it is run on one node; only tables that
 * are not replicas of one another (the shards' local tables, the Distributed tables) need every node.
 */
export function alterHead(cluster: ClusterLayout | undefined, table: string, onEveryNode: boolean): string {
  return onEveryNode && cluster ? `ALTER TABLE ${clusterTableName(cluster, table)}${onCluster(cluster)} ` : `ALTER TABLE ${quoteIdentifier(table)} `;
}

/** The ALTER heads that change the columns of a datasource's data table, wherever its parts live. */
function columnAlters(cluster: ClusterLayout | undefined, table: string): string[] {
  return isSharded(cluster) ? [alterHead(cluster, shardLocalName(table), true), alterHead(cluster, table, true)] : [alterHead(cluster, table, false)];
}

/** The ALTER head that removes rows of a datasource's data table: on a sharded cluster, every shard's local table. */
export function rowsAlterHead(cluster: ClusterLayout | undefined, table: string): string {
  return isSharded(cluster) ? alterHead(cluster, shardLocalName(table), true) : alterHead(cluster, table, false);
}

async function addColumnsAfter(
  client: ClickHouseClient,
  table: string,
  head: string,
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
  await runStatement(client, `${head}${clauses.join(', ')}`);
}

/** A local staging table of the worker's engine: the table's loaded columns, nothing else. */
export function stagingTableSql(name: string, columns: readonly ColumnDefinition[]): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(name)} (${columns.map(columnSql).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`;
}

/**
 * A table's name in a statement: on a cluster, with its database, since a statement ON CLUSTER
 * runs on each node in that node's default database otherwise.
 */
export function clusterTableName(cluster: ClusterLayout | undefined, table: string): string {
  return cluster ? `${quoteIdentifier(cluster.database)}.${quoteIdentifier(table)}` : quoteIdentifier(table);
}

/** ` ON CLUSTER name` for DDL with BUCKETPIPE_CLICKHOUSE_CLUSTER, else nothing. */
export function onCluster(cluster?: ClusterLayout): string {
  return cluster ? ` ON CLUSTER ${quoteIdentifier(cluster.name)}` : '';
}
