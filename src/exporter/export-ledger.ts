import type { ClickHouseClient } from '@clickhouse/client';
import { INTERNAL_TABLES, toDateTime64 } from '../store/internal-tables.js';
import type { VersionSource } from '../store/versions.js';
import { insertRows, selectRows } from '../store/queries.js';

export type ExportRunStatus = 'running' | 'done' | 'failed' | 'aborted';

/** One export run, as the ledger keeps it. */
export interface ExportRun {
  datasource: string;
  runId: string;
  jobId: string;
  strategy: 'new' | 'full';
  status: ExportRunStatus;
  /** `new` exports the imports committed with a ledger version in (watermarkFrom, watermarkTo]. */
  watermarkFrom: number;
  watermarkTo: number;
  startedAt: Date;
  finishedAt?: Date;
  files: number;
  rows: number;
  bytes: number;
  error?: string;
}

export async function recordRun(client: ClickHouseClient, versions: VersionSource, run: ExportRun): Promise<void> {
  await insertRows(client, INTERNAL_TABLES.exports, [
    {
      datasource: run.datasource,
      run_id: run.runId,
      job_id: run.jobId,
      strategy: run.strategy,
      status: run.status,
      watermark_from: run.watermarkFrom,
      watermark_to: run.watermarkTo,
      started_at: toDateTime64(run.startedAt),
      finished_at: run.finishedAt ? toDateTime64(run.finishedAt) : null,
      files: run.files,
      rows: run.rows,
      bytes: run.bytes,
      error: run.error ?? '',
      version: versions.nextVersion(),
    },
  ]);
}

export interface PlannedFile {
  part: number;
  bucket: string;
  key: string;
  rows: number;
  bytes: number;
}

export async function recordFiles(
  client: ClickHouseClient,
  versions: VersionSource,
  datasource: string,
  runId: string,
  files: readonly PlannedFile[],
  status: 'planned' | 'uploaded',
): Promise<void> {
  await insertRows(
    client,
    INTERNAL_TABLES.exportFiles,
    files.map((f) => ({ datasource, run_id: runId, part: f.part, bucket: f.bucket, key: f.key, rows: f.rows, bytes: f.bytes, status, version: versions.nextVersion() })),
  );
}

/** Where the next `new` export starts: the watermark of the last run that finished. */
export async function lastWatermark(client: ClickHouseClient, datasource: string): Promise<number> {
  const rows = await selectRows<{ w: string | number }>(
    client,
    `SELECT max(watermark_to) AS w FROM ${INTERNAL_TABLES.exports} FINAL WHERE datasource = {ds:String} AND status = 'done'`,
    { ds: datasource },
  );
  return Number(rows[0]?.w ?? 0);
}

/** The newest commit of an import into the datasource: the far end of a `new` export. */
export async function currentImportVersion(client: ClickHouseClient, datasource: string): Promise<number> {
  const rows = await selectRows<{ v: string | number }>(
    client,
    `SELECT max(version) AS v FROM ${INTERNAL_TABLES.ledger} WHERE datasource = {ds:String} AND status = 'done'`,
    { ds: datasource },
  );
  return Number(rows[0]?.v ?? 0);
}

/** The export run that recorded a key, if one did. */
export async function fileOwner(client: ClickHouseClient, datasource: string, key: string): Promise<string | undefined> {
  const rows = await selectRows<{ run_id: string }>(
    client,
    `SELECT run_id FROM ${INTERNAL_TABLES.exportFiles} WHERE datasource = {ds:String} AND key = {key:String} ORDER BY version DESC LIMIT 1`,
    { ds: datasource, key },
  );
  return rows[0]?.run_id;
}

/** Runs left `running` by a process that died, with the files they meant to write. */
export async function unfinishedRuns(client: ClickHouseClient, datasource: string): Promise<Array<{ run: ExportRun; files: Array<{ bucket: string; key: string }> }>> {
  const runs = await selectRows<{
    run_id: string; job_id: string; strategy: 'new' | 'full'; watermark_from: string; watermark_to: string; started_at: string;
  }>(
    client,
    `SELECT run_id, job_id, strategy, watermark_from, watermark_to, started_at FROM ${INTERNAL_TABLES.exports} FINAL
     WHERE datasource = {ds:String} AND status = 'running'`,
    { ds: datasource },
  );
  const result = [];
  for (const r of runs) {
    const files = await selectRows<{ bucket: string; key: string }>(
      client,
      `SELECT DISTINCT bucket, key FROM ${INTERNAL_TABLES.exportFiles} WHERE datasource = {ds:String} AND run_id = {run:String}`,
      { ds: datasource, run: r.run_id },
    );
    const run: ExportRun = {
      datasource, runId: r.run_id, jobId: r.job_id, strategy: r.strategy, status: 'running',
      watermarkFrom: Number(r.watermark_from), watermarkTo: Number(r.watermark_to), startedAt: new Date(`${r.started_at}Z`),
      files: 0, rows: 0, bytes: 0,
    };
    result.push({ run, files });
  }
  return result;
}
