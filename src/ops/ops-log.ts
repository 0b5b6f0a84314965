import type { ClickHouseClient } from '@clickhouse/client';
import { now } from '../clock.js';
import { INTERNAL_TABLES, toDateTime64 } from '../store/internal-tables.js';
import { insertRows, selectRows } from '../store/queries.js';
import type { VersionSource } from '../store/versions.js';

/** `interrupted`: the process running the job stopped without finishing it; a later run found it so. */
export type JobStatus = 'running' | 'ok' | 'partial' | 'error' | 'interrupted';

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

/** Writes the job's row anew; versioned by the writer's lease, so a job a later run marked stays marked. */
export async function recordJob(client: ClickHouseClient, versions: VersionSource, job: JobRecord): Promise<void> {
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
      version: versions.nextVersion(),
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
  const time = toDateTime64(now());
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

/** The events of one job: gathered as they happen, written at each step the job finishes (an object, a batch, the end). */
export interface EventLog {
  add(object: string, level: OpsEvent['level'], event: string, message: string): void;
  /** Writes what was gathered since the last flush. */
  flush(): Promise<void>;
}

export function eventLog(client: ClickHouseClient, job: { jobId: string; datasource: string }): EventLog {
  let pending: OpsEvent[] = [];
  return {
    add(object, level, event, message) {
      pending.push({ jobId: job.jobId, datasource: job.datasource, object, level, event, message });
    },
    async flush() {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      await recordEvents(client, batch);
    },
  };
}

/**
 * Marks the jobs of a datasource (of one kind) that are still `running` although the caller holds
 * the lease their runs needed: their processes stopped without finishing. Returns how many.
 */
export async function markInterruptedJobs(
  client: ClickHouseClient,
  versions: VersionSource,
  finder: { datasource: string; kind: 'import' | 'export'; jobId: string; holder: string },
): Promise<JobRecord[]> {
  const rows = await selectRows<JobRow>(
    client,
    `SELECT job_id, datasource, kind, trigger, status, started_at, finished_at, objects, failed_objects, rows, quarantined, bytes, error
     FROM ${INTERNAL_TABLES.jobs} FINAL
     WHERE datasource = {datasource:String} AND kind = {kind:String} AND status = 'running' AND job_id != {job:String}`,
    { datasource: finder.datasource, kind: finder.kind, job: finder.jobId },
  );
  const found = now();
  const marked = rows.map((r): JobRecord => ({
    jobId: r.job_id,
    datasource: r.datasource,
    kind: r.kind as JobRecord['kind'],
    trigger: r.trigger as JobRecord['trigger'],
    status: 'interrupted',
    startedAt: new Date(`${r.started_at.replace(' ', 'T')}Z`),
    finishedAt: found,
    objects: Number(r.objects),
    failedObjects: Number(r.failed_objects),
    rows: Number(r.rows),
    quarantined: Number(r.quarantined),
    bytes: Number(r.bytes),
    error: `interrupted: its process stopped without finishing; found at ${found.toISOString()} by job ${finder.jobId} on ${finder.holder}`,
  }));
  for (const job of marked) await recordJob(client, versions, job);
  return marked;
}
