import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement, selectRows } from './queries.js';
import type { ServerCapabilities } from './server-capabilities.js';
import { alterHead, clusterTableName, onCluster } from './table-ddl.js';
import { replicatedEngineCall, type ClusterLayout } from './cluster-layout.js';
import { fenceOfVersion } from './versions.js';

/** The tables bucketpipe keeps for itself: the object ledger, the ops log, leases, revisions and datasource records. */
export const INTERNAL_TABLES = {
  /** One row per write about an import attempt (object version × import id); the newest version of a row wins. */
  ledger: '_bucketpipe_ledger',
  /** A view: one row per object version with its status, decided from its attempts. */
  objects: '_bucketpipe_objects',
  jobs: '_bucketpipe_jobs',
  events: '_bucketpipe_events',
  datasources: '_bucketpipe_datasources',
  exports: '_bucketpipe_exports',
  exportFiles: '_bucketpipe_export_files',
  /** Every push's lease, with its fence (runs' fences are in their job rows): floors when Redis lost its count. */
  leases: '_bucketpipe_leases',
  /** Every project revision pushed, by project; the newest of a project is the one its workers run. */
  revisions: '_bucketpipe_revisions',
} as const;

/** The ledger before attempts were kept apart: one row per object version. Its rows are moved into the ledger once. */
const LEGACY_OBJECTS = '_bucketpipe_objects';
const LEGACY_OBJECTS_KEPT = '_bucketpipe_objects_v1';

/** The engine call of an internal table: on a cluster, replicated to every node, so that every node sees the same ledger. */
type EngineOf = (table: string, engine: string, args?: readonly string[]) => string;

function engineOf(cluster: ClusterLayout | undefined): EngineOf {
  return (table, engine, args = []) => (cluster ? replicatedEngineCall(cluster, table, 'every-node', engine, args) : `${engine}(${args.join(', ')})`);
}

/** The DDL of the internal tables; `ts` is the timestamp type the store has. */
const ddl = (ts: string, on: string, engine: EngineOf, name: (table: string) => string): readonly string[] => [
  // One row per (datasource, object version, import attempt) once merged; the newest version wins.
  // Attempts stay apart, so that an attempt a lost holder left `loading` is still found and undone
  // after another attempt of the same object committed.
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.ledger)}${on} (
    datasource String, key String, etag String, bucket String, size UInt64,
    last_modified ${ts}, import_id String, job_id String,
    status String, rows UInt64, quarantined UInt64, error String,
    updated_at ${ts}, version UInt64
  ) ENGINE = ${engine(INTERNAL_TABLES.ledger, 'ReplacingMergeTree', ['version'])} ORDER BY (datasource, key, etag, import_id)`,
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.jobs)}${on} (
    job_id String, datasource String, kind String, trigger String,
    status String, started_at ${ts}, finished_at Nullable(${ts}),
    objects UInt32, failed_objects UInt32, rows UInt64, quarantined UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ${engine(INTERNAL_TABLES.jobs, 'ReplacingMergeTree', ['version'])} ORDER BY (datasource, job_id)`,
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.events)}${on} (
    time ${ts}, job_id String, datasource String, object String,
    level String, event String, message String
  ) ENGINE = ${engine(INTERNAL_TABLES.events, 'MergeTree')} ORDER BY (datasource, time)`,
  // One row per export run (the newest version wins); watermark_to of the last `done` run of a
  // datasource is where its next `new` export starts.
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.exports)}${on} (
    datasource String, run_id String, job_id String, strategy String, status String,
    watermark_from UInt64, watermark_to UInt64, started_at ${ts}, finished_at Nullable(${ts}),
    files UInt32, rows UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ${engine(INTERNAL_TABLES.exports, 'ReplacingMergeTree', ['version'])} ORDER BY (datasource, run_id)`,
  // Every file a run means to write, recorded before it is uploaded, so a crashed run's files can be removed.
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.exportFiles)}${on} (
    datasource String, run_id String, part UInt32, bucket String, key String, rows UInt64, bytes UInt64,
    status String, version UInt64
  ) ENGINE = ${engine(INTERNAL_TABLES.exportFiles, 'ReplacingMergeTree', ['version'])} ORDER BY (datasource, run_id, part)`,
  // csv_header: 'true' or 'false' as decided on the reference object of a datasource without a SCHEMA
  // (every CSV object of it is read so), '' where nothing was decided.
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.datasources)}${on} (
    name String, inferred UInt8, reference_object String, updated_at ${ts}, version UInt64, csv_header String DEFAULT ''
  ) ENGINE = ${engine(INTERNAL_TABLES.datasources, 'ReplacingMergeTree', ['version'])} ORDER BY name`,
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.leases)}${on} (
    name String, fence UInt64, holder String, taken_at ${ts}
  ) ENGINE = ${engine(INTERNAL_TABLES.leases, 'ReplacingMergeTree', ['fence'])} ORDER BY name`,
  `CREATE TABLE IF NOT EXISTS ${name(INTERNAL_TABLES.revisions)}${on} (
    project_id String, revision String, definitions String, pushed_by String, pushed_at ${ts}, version UInt64
  ) ENGINE = ${engine(INTERNAL_TABLES.revisions, 'ReplacingMergeTree', ['version'])} ORDER BY (project_id, revision)`,
];

/**
 * Where an object version stands, from the newest write about each of its attempts: `done` when an
 * attempt committed; else `loading` when one was left loading (the next run undoes it); else what
 * the newest attempt says. `unfinished` lists the attempts left loading, done or not; `committed`
 * the attempts that committed, with the versions of their commits (more than one only where a
 * node's copy of the ledger lagged on a cluster: the next run undoes all but the first).
 */
export function objectStatusSql(where = '', ledger: string = INTERNAL_TABLES.ledger): string {
  return `SELECT datasource, key, etag,
    multiIf(countIf(state = 'done') > 0, 'done', countIf(state = 'loading') > 0, 'loading', argMax(state, last)) AS status,
    if(countIf(state = 'done') > 0, argMaxIf(a_import_id, last, state = 'done'), argMax(a_import_id, last)) AS import_id,
    if(countIf(state = 'done') > 0, argMaxIf(a_rows, last, state = 'done'), toUInt64(0)) AS rows,
    if(countIf(state = 'done') > 0, argMaxIf(a_quarantined, last, state = 'done'), toUInt64(0)) AS quarantined,
    argMax(a_error, last) AS error, argMax(a_job_id, last) AS job_id, argMax(a_updated_at, last) AS updated_at,
    any(a_bucket) AS bucket, max(a_size) AS size, max(a_last_modified) AS last_modified,
    groupArrayIf(a_import_id, state = 'loading') AS unfinished, max(last) AS version,
    groupArrayIf(a_import_id, state = 'done') AS committed, groupArrayIf(last, state = 'done') AS committed_versions
  FROM (
    SELECT datasource, key, etag, import_id AS a_import_id, argMax(status, version) AS state, argMax(rows, version) AS a_rows,
      argMax(quarantined, version) AS a_quarantined, argMax(error, version) AS a_error, argMax(job_id, version) AS a_job_id,
      argMax(updated_at, version) AS a_updated_at, any(bucket) AS a_bucket, max(size) AS a_size,
      max(last_modified) AS a_last_modified, max(version) AS last
    FROM ${ledger} ${where}
    GROUP BY datasource, key, etag, import_id
  )
  GROUP BY datasource, key, etag`;
}

/** Clients whose store has the internal tables already: every run asks, once per process is enough. */
const ensured = new WeakSet<ClickHouseClient>();

/**
 * Creates the internal tables where missing. Timestamps are DateTime64(3) where the store has it and
 * whole-second DateTime on older servers. A store of an earlier version has its ledger moved into the
 * new one, and its rows' versions (taken from clocks then) become the floor of every fence.
 */
export async function ensureInternalTables(store: { client: ClickHouseClient; capabilities: ServerCapabilities; cluster?: ClusterLayout }): Promise<void> {
  if (ensured.has(store.client)) return;
  const ts = store.capabilities.dateTime64 ? "DateTime64(3, 'UTC')" : "DateTime('UTC')";
  const on = onCluster(store.cluster);
  // A statement ON CLUSTER waits for every node: where this node has every table, a node that is
  // down must not hold a worker up.
  const name = (table: string) => clusterTableName(store.cluster, table);
  if (!(await allPresent(store.client))) {
    for (const statement of ddl(ts, on, engineOf(store.cluster), name)) await runStatement(store.client, statement);
    await migrateLegacyLedger(store.client, store.cluster);
    await runStatement(store.client, `CREATE VIEW IF NOT EXISTS ${name(INTERNAL_TABLES.objects)}${on} AS ${objectStatusSql('', name(INTERNAL_TABLES.ledger))}`);
  }
  await addMissingColumn(store.client, INTERNAL_TABLES.datasources, 'csv_header', "String DEFAULT ''", store.cluster);
  ensured.add(store.client);
}

/** Whether this node has every internal table, and the ledger view in its current shape (not the legacy table). */
async function allPresent(client: ClickHouseClient): Promise<boolean> {
  const names = Object.values(INTERNAL_TABLES);
  const rows = await selectRows<{ name: string; engine: string }>(
    client,
    'SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND has({names:Array(String)}, name)',
    { names },
  );
  return rows.length === names.length && rows.find((r) => r.name === INTERNAL_TABLES.objects)?.engine === 'View';
}

/** A column that internal tables of an earlier version lack (old servers know no ADD COLUMN IF NOT EXISTS). */
async function addMissingColumn(client: ClickHouseClient, table: string, column: string, definition: string, cluster: ClusterLayout | undefined): Promise<void> {
  const [found] = await selectRows<{ n: string | number }>(
    client,
    `SELECT count() AS n FROM system.columns WHERE database = currentDatabase() AND table = {table:String} AND name = {column:String}`,
    { table, column },
  );
  if (Number(found?.n ?? 0) > 0) return;
  await runStatement(client, `${alterHead(cluster, table, false)}ADD COLUMN ${column} ${definition}`);
}

async function migrateLegacyLedger(client: ClickHouseClient, cluster: ClusterLayout | undefined): Promise<void> {
  const legacy = await selectRows<{ engine: string }>(client, `SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`, { name: LEGACY_OBJECTS });
  if (legacy[0] === undefined || legacy[0].engine === 'View') return;
  // Versions were microseconds of a process clock then; every fence from now on starts above them.
  const [oldest] = await selectRows<{ v: string }>(
    client,
    `SELECT greatest((SELECT max(version) FROM ${LEGACY_OBJECTS}), (SELECT max(version) FROM ${INTERNAL_TABLES.jobs}),
       (SELECT max(version) FROM ${INTERNAL_TABLES.exports}), (SELECT max(version) FROM ${INTERNAL_TABLES.exportFiles}),
       (SELECT max(version) FROM ${INTERNAL_TABLES.datasources})) AS v`,
  );
  const floor = fenceOfVersion(Number(oldest?.v ?? 0)) + 1;
  await runStatement(client, `INSERT INTO ${INTERNAL_TABLES.leases} (name, fence, holder) VALUES ('*', ${floor}, 'migration')`);
  // Copied, then renamed: a crash between the two copies again, and the copies merge away (same key, same version).
  await runStatement(
    client,
    `INSERT INTO ${INTERNAL_TABLES.ledger} SELECT datasource, key, etag, bucket, size, last_modified, import_id, job_id,
       status, rows, quarantined, error, updated_at, version FROM ${LEGACY_OBJECTS}`,
  );
  await runStatement(client, `RENAME TABLE ${clusterTableName(cluster, LEGACY_OBJECTS)} TO ${clusterTableName(cluster, LEGACY_OBJECTS_KEPT)}${onCluster(cluster)}`);
}

/** `2026-11-25 10:00:00.123`: the text form DateTime64(3) columns take. */
export function toDateTime64(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
