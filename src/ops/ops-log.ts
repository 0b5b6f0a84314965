import type { ClickHouseClient } from '@clickhouse/client';
import { INTERNAL_TABLES, nextVersion, toDateTime64 } from '../store/internal-tables.js';
import { insertRows, selectRows } from '../store/queries.js';

export type JobStatus = 'running' | 'ok' | 'partial' | 'error';

/** One row of the ops log per job; rewritten as the job goes on (the newest version wins). */
export interface JobRecord {
  jobId: string;
  datasource: string;
  kind: 'import' | 'export';
  /** `auto` and `scheduled`: by a schedule; `on-demand`: asked for. */
  trigger: 'auto' | 'scheduled' | 'on-demand';
  status: JobStatus;
  startedAt: Date;
  finishedAt?: Date;
  objects: number;
  failedObjects: number;
  rows: number;
  quarantined: number;
  bytes: number;
  error?: string;
}

export async function recordJob(client: ClickHouseClient, job: JobRecord): Promise<void> {
  await insertRows(client, INTERNAL_TABLES.jobs, [
    {
      job_id: job.jobId,
      datasource: job.datasource,
      kind: job.kind,
      trigger: job.trigger,
      status: job.status,
      started_at: toDateTime64(job.startedAt),
      finished_at: job.finishedAt ? toDateTime64(job.finishedAt) : null,
      objects: job.objects,
      failed_objects: job.failedObjects,
      rows: job.rows,
      quarantined: job.quarantined,
      bytes: job.bytes,
      error: job.error ?? '',
      version: nextVersion(),
    },
  ]);
}

export interface OpsEvent {
  jobId: string;
  datasource: string;
  /** `s3://bucket/key` or '' for job-level events. */
  object: string;
  level: 'info' | 'warn' | 'error';
  /** A stable name: `object_imported`, `object_failed`, `columns_added`, `etag_changed`, `import_undone`, ... */
  event: string;
  message: string;
}

export async function recordEvents(client: ClickHouseClient, events: readonly OpsEvent[]): Promise<void> {
  const time = toDateTime64(new Date());
  await insertRows(
    client,
    INTERNAL_TABLES.events,
    events.map((e) => ({ time, job_id: e.jobId, datasource: e.datasource, object: e.object, level: e.level, event: e.event, message: e.message })),
  );
}

export interface JobRow {
  job_id: string;
  datasource: string;
  kind: string;
  trigger: string;
  status: JobStatus;
  started_at: string;
  finished_at: string | null;
  objects: number;
  failed_objects: number;
  rows: number;
  quarantined: number;
  bytes: number;
  error: string;
}

/** The newest jobs first. */
export async function listJobs(client: ClickHouseClient, datasource?: string, limit = 20): Promise<JobRow[]> {
  const rows = await selectRows<JobRow>(
    client,
    `SELECT job_id, datasource, kind, trigger, status, started_at, finished_at, objects, failed_objects,
            rows, quarantined, bytes, error
     FROM ${INTERNAL_TABLES.jobs} FINAL
     WHERE {datasource:String} = '' OR datasource = {datasource:String}
     ORDER BY started_at DESC, job_id DESC LIMIT {limit:UInt32}`,
    { datasource: datasource ?? '', limit },
  );
  return rows.map((r) => ({ ...r, rows: Number(r.rows), quarantined: Number(r.quarantined), bytes: Number(r.bytes) }));
}

export interface EventRow {
  time: string;
  job_id: string;
  datasource: string;
  object: string;
  level: string;
  event: string;
  message: string;
}

export async function listEvents(client: ClickHouseClient, filter: { datasource?: string; jobId?: string }, limit = 100): Promise<EventRow[]> {
  return selectRows<EventRow>(
    client,
    `SELECT time, job_id, datasource, object, level, event, message FROM ${INTERNAL_TABLES.events}
     WHERE ({datasource:String} = '' OR datasource = {datasource:String}) AND ({job:String} = '' OR job_id = {job:String})
     ORDER BY time DESC LIMIT {limit:UInt32}`,
    { datasource: filter.datasource ?? '', job: filter.jobId ?? '', limit },
  );
}
