import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement } from './queries.js';
import type { ServerCapabilities } from './server-capabilities.js';
import { onCluster } from './table-ddl.js';

/** The tables bucketpipe keeps for itself: the object ledger, the ops log and datasource records. */
export const INTERNAL_TABLES = {
  objects: '_bucketpipe_objects',
  jobs: '_bucketpipe_jobs',
  events: '_bucketpipe_events',
  datasources: '_bucketpipe_datasources',
  exports: '_bucketpipe_exports',
  exportFiles: '_bucketpipe_export_files',
} as const;

/** The DDL of the internal tables; `ts` is the timestamp type the store has. */
const ddl = (ts: string, on: string): readonly string[] => [
  // One row per (datasource, object version). The newest version of a row wins (ReplacingMergeTree).
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.objects}${on} (
    datasource String, key String, etag String, bucket String, size UInt64,
    last_modified ${ts}, import_id String, job_id String,
    status String, rows UInt64, quarantined UInt64, error String,
    updated_at ${ts}, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, key, etag)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.jobs}${on} (
    job_id String, datasource String, kind String, trigger String,
    status String, started_at ${ts}, finished_at Nullable(${ts}),
    objects UInt32, failed_objects UInt32, rows UInt64, quarantined UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, job_id)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.events}${on} (
    time ${ts}, job_id String, datasource String, object String,
    level String, event String, message String
  ) ENGINE = MergeTree ORDER BY (datasource, time)`,
  // One row per export run (the newest version wins); watermark_to of the last `done` run of a
  // datasource is where its next `new` export starts.
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.exports}${on} (
    datasource String, run_id String, job_id String, strategy String, status String,
    watermark_from UInt64, watermark_to UInt64, started_at ${ts}, finished_at Nullable(${ts}),
    files UInt32, rows UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, run_id)`,
  // Every file a run means to write, recorded before it is uploaded, so a crashed run's files can be removed.
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.exportFiles}${on} (
    datasource String, run_id String, part UInt32, bucket String, key String, rows UInt64, bytes UInt64,
    status String, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, run_id, part)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.datasources}${on} (
    name String, inferred UInt8, reference_object String, updated_at ${ts}, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY name`,
];

/**
 * Creates the internal tables where missing. Timestamps are DateTime64(3) where the store has it and
 * whole-second DateTime on older servers.
 */
/** Clients whose store has the internal tables already: every run asks, once per process is enough. */
const ensured = new WeakSet<ClickHouseClient>();

export async function ensureInternalTables(store: { client: ClickHouseClient; capabilities: ServerCapabilities; cluster?: string }): Promise<void> {
  if (ensured.has(store.client)) return;
  const ts = store.capabilities.dateTime64 ? "DateTime64(3, 'UTC')" : "DateTime('UTC')";
  for (const statement of ddl(ts, onCluster(store.cluster))) await runStatement(store.client, statement);
  ensured.add(store.client);
}

let lastVersion = 0;
/** A strictly increasing version for ReplacingMergeTree rows written by this process. */
export function nextVersion(): number {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1000);
  return lastVersion;
}

/** `2026-11-25 10:00:00.123`: the text form DateTime64(3) columns take. */
export function toDateTime64(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
