import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import { BucketpipeError } from '../errors.js';
import { syncDatasource } from '../importer/sync-datasource.js';
import { exportDatasource } from '../exporter/export-datasource.js';
import type { ImportJobData, ImportJobResult } from '../queue/import-queue.js';
import { tryLockDatasource } from '../queue/datasource-lock.js';

/** How long an on-demand job waits before it looks again at a datasource that is busy. */
const BUSY_RETRY_MS = 2_000;

/**
 * Runs one import job. At most one run per datasource at a time, across all workers: a minute tick
 * that finds its datasource busy is skipped (the running import takes the new objects anyway); an
 * on-demand request waits its turn.
 */
export function createImportProcessor(app: App, redis: Redis, prefix: string, signal: AbortSignal) {
  return async (job: Job<ImportJobData, ImportJobResult>, token?: string): Promise<ImportJobResult> => {
    const { datasource, trigger } = job.data;
    if (job.data.kind === 'export') return runExportJob(app, redis, prefix, job, token);
    const lock = await tryLockDatasource(redis, prefix, datasource);
    if (!lock) {
      if (trigger === 'auto') return { skipped: 'busy', datasource };
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    let report;
    try {
      const ctx = await app.importContext(datasource).catch((error: unknown) => {
        // A project error (the datasource was deleted, its connection is wrong) will not fix itself.
        if (error instanceof BucketpipeError && !error.retryable) throw new UnrecoverableError(error.message);
        throw error;
      });
      report = await syncDatasource(ctx, {
        trigger,
        jobId: job.id,
        retryFailed: job.data.retryFailed,
        limit: job.data.limit,
        signal,
        onProgress: (progress) => void job.updateProgress({ ...progress }).catch(() => undefined),
      });
    } finally {
      await lock.release();
    }
    app.log.info({ job: job.id, datasource, trigger, status: report.status, objects: report.objects.length, rows: report.rows }, 'import finished');
    if (report.status === 'ok') return report;
    const message = report.error?.message ?? `the import of ${datasource} ended with status ${report.status}`;
    if (report.error?.retryable) throw new Error(message);
    throw new UnrecoverableError(message);
  };
}

/** An export job: one run per datasource at a time; its own lock, so an import can run beside it. */
async function runExportJob(app: App, redis: Redis, prefix: string, job: Job<ImportJobData, ImportJobResult>, token?: string): Promise<ImportJobResult> {
  const { datasource, trigger } = job.data;
  const lock = await tryLockDatasource(redis, prefix, `export:${datasource}`);
  if (!lock) {
    if (trigger === 'auto') return { skipped: 'busy', datasource };
    await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
    throw new DelayedError();
  }
  let report;
  try {
    const ctx = await app.exportContext(datasource).catch((error: unknown) => {
      if (error instanceof BucketpipeError && !error.retryable) throw new UnrecoverableError(error.message);
      throw error;
    });
    report = await exportDatasource(ctx, { trigger: trigger === 'auto' ? 'scheduled' : 'on-demand', jobId: job.id });
  } finally {
    await lock.release();
  }
  app.log.info({ job: job.id, datasource, kind: 'export', status: report.status, files: report.files.length, rows: report.rows }, 'export finished');
  if (report.status === 'ok') return report;
  const message = report.error?.message ?? `the export of ${datasource} failed`;
  if (report.error?.retryable) throw new Error(message);
  throw new UnrecoverableError(message);
}
