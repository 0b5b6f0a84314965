import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement } from './queries.js';

/** The tables bucketpipe keeps for itself: the object ledger, the ops log and datasource records. */
export const INTERNAL_TABLES = {
  objects: '_bucketpipe_objects',
  jobs: '_bucketpipe_jobs',
  events: '_bucketpipe_events',
  datasources: '_bucketpipe_datasources',
  exports: '_bucketpipe_exports',
  exportFiles: '_bucketpipe_export_files',
} as const;

const DDL: readonly string[] = [
  // One row per (datasource, object version). The newest version of a row wins (ReplacingMergeTree).
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.objects} (
    datasource String, key String, etag String, bucket String, size UInt64,
    last_modified DateTime64(3, 'UTC'), import_id String, job_id String,
    status LowCardinality(String), rows UInt64, quarantined UInt64, error String,
    updated_at DateTime64(3, 'UTC'), version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, key, etag)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.jobs} (
    job_id String, datasource String, kind LowCardinality(String), trigger LowCardinality(String),
    status LowCardinality(String), started_at DateTime64(3, 'UTC'), finished_at Nullable(DateTime64(3, 'UTC')),
    objects UInt32, failed_objects UInt32, rows UInt64, quarantined UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, job_id)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.events} (
    time DateTime64(3, 'UTC'), job_id String, datasource String, object String,
    level LowCardinality(String), event LowCardinality(String), message String
  ) ENGINE = MergeTree ORDER BY (datasource, time)`,
  // One row per export run (the newest version wins); watermark_to of the last `done` run of a
  // datasource is where its next `new` export starts.
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.exports} (
    datasource String, run_id String, job_id String, strategy LowCardinality(String), status LowCardinality(String),
    watermark_from UInt64, watermark_to UInt64, started_at DateTime64(3, 'UTC'), finished_at Nullable(DateTime64(3, 'UTC')),
    files UInt32, rows UInt64, bytes UInt64, error String, version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, run_id)`,
  // Every file a run means to write, recorded before it is uploaded, so a crashed run's files can be removed.
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.exportFiles} (
    datasource String, run_id String, part UInt32, bucket String, key String, rows UInt64, bytes UInt64,
    status LowCardinality(String), version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (datasource, run_id, part)`,
  `CREATE TABLE IF NOT EXISTS ${INTERNAL_TABLES.datasources} (
    name String, inferred UInt8, reference_object String, updated_at DateTime64(3, 'UTC'), version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY name`,
];

export async function ensureInternalTables(client: ClickHouseClient): Promise<void> {
  for (const ddl of DDL) await runStatement(client, ddl);
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
