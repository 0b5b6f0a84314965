import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import { BucketpipeError, type ErrorReport } from '../errors.js';
import { exportDatasource } from '../exporter/export-datasource.js';
import { syncDatasource } from '../importer/sync-datasource.js';
import type { ImportJobData, ImportJobResult } from '../queue/import-queue.js';
import { tryLockDatasource } from '../queue/datasource-lock.js';

/** How long an on-demand job waits before it looks again at a datasource that is busy. */
const BUSY_RETRY_MS = 2_000;

type Report = Exclude<ImportJobResult, { skipped: 'busy' }>;

/**
 * Runs one job: an import (the default) or an export of a datasource. At most one import and one
 * export per datasource at a time, across all workers: a scheduled tick that finds its run busy is
 * skipped (the running one takes the new rows anyway); an on-demand request waits its turn.
 */
export function createImportProcessor(app: App, redis: Redis, prefix: string, signal: AbortSignal) {
  return async (job: Job<ImportJobData, ImportJobResult>, token?: string): Promise<ImportJobResult> => {
    const { datasource, trigger } = job.data;
    const exporting = job.data.kind === 'export';
    const lock = await tryLockDatasource(redis, prefix, exporting ? `export:${datasource}` : datasource);
    if (!lock) {
      if (trigger === 'auto') return { skipped: 'busy', datasource };
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    let report: Report;
    try {
      if (exporting) {
        const ctx = await deterministicFailure(app.exportContext(datasource));
        report = await exportDatasource(ctx, { trigger: trigger === 'auto' ? 'scheduled' : 'on-demand', jobId: job.id });
        app.log.info({ job: job.id, datasource, kind: 'export', status: report.status, files: report.files.length, rows: report.rows }, 'export finished');
      } else {
        const ctx = await deterministicFailure(app.importContext(datasource));
        report = await syncDatasource(ctx, {
          trigger,
          jobId: job.id,
          retryFailed: job.data.retryFailed,
          limit: job.data.limit,
          signal,
          onProgress: (progress) => void job.updateProgress({ ...progress }).catch(() => undefined),
        });
        app.log.info({ job: job.id, datasource, trigger, status: report.status, objects: report.objects.length, rows: report.rows }, 'import finished');
      }
    } finally {
      await lock.release();
    }
    return settle(report, `the ${exporting ? 'export' : 'import'} of ${datasource}`);
  };
}

/** A project error (the datasource was deleted, its connection is wrong) will not fix itself: no retry. */
function deterministicFailure<T>(context: Promise<T>): Promise<T> {
  return context.catch((error: unknown) => {
    if (error instanceof BucketpipeError && !error.retryable) throw new UnrecoverableError(error.message);
    throw error;
  });
}

/** A report that is not `ok` fails the job: retried with backoff when the cause is transient, at once otherwise. */
function settle(report: Report & { status: string; error?: ErrorReport }, what: string): Report {
  if (report.status === 'ok') return report;
  const message = report.error?.message ?? `${what} ended with status ${report.status}`;
  if (report.error?.retryable) throw new Error(message);
  throw new UnrecoverableError(message);
}
