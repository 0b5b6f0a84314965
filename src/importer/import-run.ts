import { randomBytes } from 'node:crypto';
import { now } from '../clock.js';
import { toErrorReport } from '../errors.js';
import type { Lease } from '../lease.js';
import { eventLog, markInterruptedJobs, recordJob, type EventLog, type JobRecord } from '../ops/ops-log.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import type { AttemptContext } from './commit.js';
import type { ImportContext } from './import-context.js';
import type { ImportReport, SyncOptions } from './import-report.js';

/** Tells the ops log what happened to an object (`''`: to the run as a whole). */
export type Event = EventLog['add'];

/** One run's bookkeeping: its job record, the report it fills in, its events, and the protocol it commits by. */
export interface ImportRun {
  jobId: string;
  lease: Lease;
  job: JobRecord;
  report: ImportReport;
  events: EventLog;
  event: Event;
  protocol: AttemptContext;
}

/**
 * Opens a run: its job recorded as running, and the jobs of this datasource whose process stopped
 * without finishing marked and told of.
 */
export async function startRun(ctx: ImportContext, options: SyncOptions): Promise<ImportRun> {
  const client = ctx.store.client;
  const spec = ctx.datasource;
  const lease = options.lease;
  const protocol: AttemptContext = { store: ctx.store, table: spec.name, lease };
  const jobId = options.jobId ?? newJobId(spec.name);
  const startedAt = now();
  const job: JobRecord = {
    jobId, datasource: spec.name, kind: 'import', trigger: options.trigger, status: 'running', startedAt,
    objects: 0, failedObjects: 0, rows: 0, quarantined: 0, bytes: 0,
  };
  const report: ImportReport = {
    jobId, datasource: spec.name, trigger: options.trigger, status: 'running', objects: [], rows: 0, quarantined: 0,
    bytes: 0, matched: 0, deferred: 0, changed: [], skippedFailed: 0, recovered: 0, stopped: false, startedAt: startedAt.toISOString(), finishedAt: '',
  };
  const events = eventLog(client, job);
  const event: Event = events.add;

  await ensureInternalTables(ctx.store);
  await recordJob(client, lease, job);
  for (const interrupted of await markInterruptedJobs(client, lease, { datasource: spec.name, kind: 'import', jobId, holder: lease.holder })) {
    event('', 'warn', 'job_interrupted', `job ${interrupted.jobId} (started ${interrupted.startedAt.toISOString()}) was still running when this run took ${spec.name}: its process stopped without finishing.`);
  }
  return { jobId, lease, job, report, events, event, protocol };
}

/** The run's status from its objects': ok, error when every one failed, partial in between. */
export function settleStatus(report: ImportReport): void {
  const failed = report.objects.filter((o) => o.status === 'failed');
  report.status = failed.length === 0 ? 'ok' : failed.length === report.objects.length ? 'error' : 'partial';
  if (failed.length > 0) report.error = failed[0]!.error;
}

/** A run that could not go on: the error is its outcome. */
export function failRun(run: ImportRun, error: unknown): void {
  run.report.status = 'error';
  run.report.error = toErrorReport(error);
  run.event('', 'error', 'job_failed', run.report.error.message);
}

/** Closes a run: its events written, and its job recorded with the figures of its report. */
export async function finishRun(ctx: ImportContext, run: ImportRun): Promise<ImportReport> {
  const { report, job } = run;
  const finishedAt = now();
  report.finishedAt = finishedAt.toISOString();
  await run.events.flush();
  await recordJob(ctx.store.client, run.lease, {
    ...job,
    status: report.status,
    finishedAt,
    objects: report.objects.length,
    failedObjects: report.objects.filter((o) => o.status === 'failed').length,
    rows: report.rows,
    quarantined: report.quarantined,
    bytes: report.bytes,
    error: report.error?.message,
  });
  return report;
}

/**
 * A job id of its own for each run: a run is never retried as such. Its objects are, each under an
 * import id derived from its inputs (commit.ts), so that a retry lands them once.
 */
function newJobId(datasource: string): string {
  return `${datasource}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
