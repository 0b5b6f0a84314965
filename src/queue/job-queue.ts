import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ImportReport } from '../importer/sync-datasource.js';
import type { ExportReport } from '../exporter/export-datasource.js';
import type { Project } from '../project/types.js';
import { autoSchedulerId, datasourceOfScheduler, exportSchedulerId, RUN_QUEUE } from './queue-names.js';

/**
 * What a job asks for: an import (the default) or an export of one datasource. Jobs keep this shape in
 * Redis, so its fields keep their names: pending jobs and workers of an earlier version read them.
 */
export interface RunJobData {
  datasource: string;
  kind?: 'import' | 'export';
  trigger: 'auto' | 'on-demand';
  retryFailed?: boolean;
  limit?: number;
  /** The pushed project revision in force when the job was asked for; a run uses the one in force when it starts. */
  revision?: string;
}

/** What a job returns: the run's report, or why it did not run. */
export type RunJobResult = ImportReport | ExportReport | { skipped: 'busy'; datasource: string };

export type RunQueue = Queue<RunJobData, RunJobResult>;

/**
 * Transient failures (S3 5xx, network, the store unavailable) are retried with exponential backoff
 * and jitter; deterministic ones fail the job at once (the processor throws UnrecoverableError).
 */
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { count: 500 },
  removeOnFail: { count: 1000 },
};

export function openRunQueue(redis: Redis, prefix: string): RunQueue {
  return new Queue<RunJobData, RunJobResult>(RUN_QUEUE, { connection: redis, prefix });
}

export interface ScheduleChange {
  datasource: string;
  action: 'scheduled' | 'unscheduled';
  description: string;
}

/**
 * One job scheduler per `@auto` import and per cron EXPORT_SCHEDULE; schedulers of datasources that
 * were deleted or switched to `@on-demand` are removed. Upserting an unchanged scheduler is a no-op.
 */
export async function syncSchedules(queue: RunQueue, project: Project, everyMs: number): Promise<ScheduleChange[]> {
  const changes: ScheduleChange[] = [];
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const wanted = new Set<string>();
  for (const spec of project.datasources.values()) {
    const pattern = spec.export?.schedule;
    if (!pattern || pattern === '@on-demand') continue;
    const id = exportSchedulerId(spec.name);
    wanted.add(id);
    if (existing.get(id)?.pattern === pattern) continue;
    await queue.upsertJobScheduler(
      id,
      { pattern, tz: 'UTC' },
      { name: 'export', data: { datasource: spec.name, kind: 'export', trigger: 'auto' }, opts: { ...RUN_JOB_OPTIONS, attempts: 3 } },
    );
    changes.push({ datasource: spec.name, action: 'scheduled', description: `schedule the export of ${spec.name}: ${pattern} (UTC)` });
  }
  for (const spec of project.datasources.values()) {
    if (spec.import?.schedule !== '@auto') continue;
    const id = autoSchedulerId(spec.name);
    wanted.add(id);
    const current = existing.get(id);
    if (current?.every === everyMs) continue;
    await queue.upsertJobScheduler(
      id,
      { every: everyMs },
      { name: 'import', data: { datasource: spec.name, trigger: 'auto' }, opts: { ...RUN_JOB_OPTIONS, attempts: 3 } },
    );
    changes.push({ datasource: spec.name, action: 'scheduled', description: `schedule ${spec.name}: import every ${formatInterval(everyMs)}` });
  }
  for (const id of existing.keys()) {
    const datasource = datasourceOfScheduler(id);
    if (datasource === undefined || wanted.has(id)) continue;
    await queue.removeJobScheduler(id);
    const what = id.startsWith('export:') ? `the export of ${datasource}: it has no EXPORT_SCHEDULE now` : `${datasource}: it is no longer @auto`;
    changes.push({ datasource, action: 'unscheduled', description: `unschedule ${what}` });
  }
  return changes;
}

/** Queues an on-demand import or export; every request gets its own job id. */
export async function enqueueRun(queue: RunQueue, data: RunJobData): Promise<string> {
  const kind = data.kind ?? 'import';
  const jobId = `${kind === 'export' ? 'export' : 'sync'}-${data.datasource}-${randomUUID()}`;
  await queue.add(kind, data, { ...RUN_JOB_OPTIONS, jobId });
  return jobId;
}

function formatInterval(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}` : `${ms / 1000} s`;
}
