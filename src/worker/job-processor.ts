import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { App } from '../app.js';
import { now } from '../clock.js';
import { BucketpipeError, toErrorReport, type ErrorReport } from '../errors.js';
import { exportDatasource } from '../exporter/export-datasource.js';
import { syncDatasource } from '../importer/sync-datasource.js';
import type { Lease } from '../lease.js';
import { recordEvents, recordJob } from '../ops/ops-log.js';
import type { RunJobData, RunJobResult } from '../queue/job-queue.js';
import { tryTakeRunLease, type LeaseSource } from '../queue/run-lease.js';

/** How long an on-demand job waits before it looks again at a datasource that is busy. */
const BUSY_RETRY_MS = 2_000;

type Report = Exclude<RunJobResult, { skipped: 'busy' }>;

/**
 * Runs one job: an import (the default) or an export of a datasource, with the project revision
 * pushed last. At most one import and one export per datasource at a time, across all workers: a
 * scheduled tick that finds its run busy is skipped (the running one takes the new rows anyway); an
 * on-demand request waits its turn.
 */
export function createJobProcessor(app: App, source: LeaseSource, signal: AbortSignal) {
  return async (job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> => {
    const { datasource, trigger } = job.data;
    const exporting = job.data.kind === 'export';
    const lease = await tryTakeRunLease(app, source, { kind: exporting ? 'export' : 'import', datasource });
    if (!lease) {
      if (trigger === 'auto') return { skipped: 'busy', datasource };
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    let report: Report;
    try {
      if (exporting) {
        const ctx = await beforeRun(app, job, lease, app.runExportContext(datasource));
        report = await exportDatasource(ctx, { trigger: trigger === 'auto' ? 'scheduled' : 'on-demand', jobId: job.id, lease });
        app.log.info({ job: job.id, datasource, kind: 'export', status: report.status, files: report.files.length, rows: report.rows }, 'export finished');
      } else {
        const ctx = await beforeRun(app, job, lease, app.runImportContext(datasource));
        report = await syncDatasource(ctx, {
          trigger,
          jobId: job.id,
          retryFailed: job.data.retryFailed,
          limit: job.data.limit,
          signal,
          lease,
          onProgress: (progress) => void job.updateProgress({ ...progress }).catch(() => undefined),
        });
        app.log.info({ job: job.id, datasource, trigger, status: report.status, objects: report.objects.length, rows: report.rows }, 'import finished');
      }
    } finally {
      await lease.release();
    }
    return settle(report, `the ${exporting ? 'export' : 'import'} of ${datasource}`);
  };
}

/**
 * The run's context, from the revision pushed last. A job that cannot even start (the datasource is
 * gone from the pushed project, it has no EXPORT_* settings there) still gets its row in the ops log,
 * with the reason, so that `jobs` and `--wait` tell the same story; a project error is not retried.
 */
async function beforeRun<T>(app: App, job: Job<RunJobData, RunJobResult>, lease: Lease, context: Promise<T>): Promise<T> {
  try {
    return await context;
  } catch (error) {
    const failure = toErrorReport(error);
    const store = await app.store().catch(() => undefined);
    if (store) {
      const { datasource, trigger, kind = 'import' } = job.data;
      const at = now();
      const record = {
        jobId: job.id ?? '', datasource, kind, trigger: trigger === 'auto' && kind === 'export' ? 'scheduled' as const : trigger,
        status: 'error' as const, startedAt: at, finishedAt: at, objects: 0, failedObjects: 0, rows: 0, quarantined: 0, bytes: 0, error: failure.message,
      };
      await recordJob(store.client, lease, record).catch(() => undefined);
      await recordEvents(store.client, [{ jobId: record.jobId, datasource, object: '', level: 'error', event: 'job_failed', message: failure.message }]).catch(() => undefined);
    }
    if (error instanceof BucketpipeError && !error.retryable) throw new UnrecoverableError(error.message);
    throw error;
  }
}

/** A report that is not `ok` fails the job: retried with backoff when the cause is transient, at once otherwise. */
function settle(report: Report & { status: string; error?: ErrorReport }, what: string): Report {
  if (report.status === 'ok') return report;
  const message = report.error?.message ?? `${what} ended with status ${report.status}`;
  if (report.error?.retryable) throw new Error(message);
  throw new UnrecoverableError(message);
}
