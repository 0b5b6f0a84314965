import { objectUri } from '../bucket/bucket-uri.js';
import type { ObjectRef } from '../bucket/list-objects.js';
import { BucketpipeError } from '../errors.js';
import { recordChanged, recoverUnfinished } from './commit.js';
import { discoverObjects, type Discovery } from './discover/discover.js';
import { readLedger, type LedgerState } from './discover/read-ledger.js';
import { catchUpReplicas } from '../store/replica-catch-up.js';
import { INTERNAL_TABLES } from '../store/internal-tables.js';
import { referenceObject } from './discover/reference-object.js';
import { gatherBatch, importBatch } from './import-batch.js';
import type { ImportContext } from './import-context.js';
import { importOne } from './import-object.js';
import type { ImportReport, SyncOptions } from './import-report.js';
import { failRun, finishRun, settleStatus, startRun, type ImportRun } from './import-run.js';
import type { TargetColumn } from './load/cast-expressions.js';
import { runSplit, type EnsureSplit } from './load/split-lifecycle.js';
import type { HeaderRule } from './probe/csv-header.js';
import { releaseConversions } from './probe/text-encoding.js';
import { csvHeaderRule, targetColumns } from './schema/target-columns.js';

export type { ImportReport, ObjectReport, SyncOptions, SyncProgress } from './import-report.js';

const running = new Set<string>();
const MAX_TRANSIENT_IN_A_ROW = 3;

/**
 * Imports the new objects of a datasource, holding its lease. Every object goes through: claim in the
 * ledger → probe → evolve the schema → load → commit (commit.ts holds the rules). A crash anywhere
 * leaves the object `loading`, and the next run undoes its rows before anything else, so each object
 * lands once. A run that loses its lease stops at once and leaves the rest to the run that took it.
 */
export async function syncDatasource(ctx: ImportContext, options: SyncOptions): Promise<ImportReport> {
  const name = ctx.datasource.name;
  if (running.has(name)) {
    throw new BucketpipeError('BUSY', `datasource ${name}: an import is already running in this process.`, { context: { datasource: name } });
  }
  running.add(name);
  try {
    return await runSync({ ...ctx, signal: options.lease.signal }, options);
  } finally {
    running.delete(name);
  }
}

async function runSync(ctx: ImportContext, options: SyncOptions): Promise<ImportReport> {
  const run = await startRun(ctx, options);
  const split = runSplit(ctx);
  try {
    const ledger = await recoverInterrupted(ctx, run);
    const discovery = await discover(ctx, run, ledger, options);
    const columns = await targetColumns(ctx, run.lease, referenceObject(discovery.toImport), run.event);
    const header = columns && (await csvHeaderRule(ctx, columns));
    // Without columns there is nothing to import: no table, and no object to infer one from.
    await importObjects(ctx, run, discovery.toImport, columns!, header!, split.ensure, options);
    if (run.lease.signal.aborted) throw run.lease.signal.reason;
    settleStatus(run.report);
  } catch (error) {
    failRun(run, error);
  } finally {
    await split.drop();
    releaseConversions(ctx);
  }
  return finishRun(ctx, run);
}

/**
 * Undoes the attempts that interrupted runs left `loading` (and repeated commits); returns the ledger
 * as it then stands. On a cluster, this node's copy of the ledger first catches up with the writes
 * made through the other nodes.
 */
async function recoverInterrupted(ctx: ImportContext, run: ImportRun): Promise<LedgerState> {
  const client = ctx.store.client;
  const waiting = () => ctx.log.debug({ stage: 'ledger_catch_up' }, "this node's copy of the ledger is behind the other nodes' writes: waiting for it");
  if (!(await catchUpReplicas(ctx.store, [INTERNAL_TABLES.ledger], waiting))) {
    run.event(
      '',
      'warn',
      'ledger_behind',
      `this node's copy of the ledger is still behind the other nodes' writes after ${ctx.store.cluster!.catchUpMs} ms (is a node down?); ` +
        'the run goes on, and an object it loads that another node had loaded is undone once the copy catches up.',
    );
  }
  const ledger = await readLedger(client, ctx.datasource.name);
  const undone = await recoverUnfinished(run.protocol, ledger, run.jobId);
  for (const attempt of undone) {
    for (const object of attempt.objects) {
      const where = objectUri(object.bucket, object.key);
      const what = attempt.why === 'interrupted' ? 'an interrupted import' : 'a second import (another had loaded it first)';
      run.event(where, 'warn', 'import_undone', `${what} of ${where} was undone; the object stands imported once.`);
    }
  }
  run.report.recovered = undone.reduce((sum, a) => sum + a.objects.length, 0);
  if (undone.length === 0) return ledger;
  // Recoveries are written at once: the ops log tells of them even if this run dies too.
  await run.events.flush();
  return readLedger(client, ctx.datasource.name);
}

/** The objects under the URI, sorted against the ledger; imported keys that changed are recorded and told of. */
async function discover(ctx: ImportContext, run: ImportRun, ledger: LedgerState, options: SyncOptions): Promise<Discovery> {
  const spec = ctx.datasource;
  const report = run.report;
  const uri = spec.import.uri;
  const limit = options.limit ?? (options.trigger === 'auto' ? spec.import.maxFilesPerRun : undefined);
  const discovery = await discoverObjects(ctx.access, uri, ledger, { limit, retryFailed: options.retryFailed });
  report.matched = discovery.matched;
  report.deferred = discovery.deferred;
  report.skippedFailed = discovery.failed.length;
  // Not an error (objects may come later), but a likely typo in the URI: say so where it is seen.
  if (discovery.matched === 0) run.event('', 'info', 'no_match', `no object matches ${spec.import.bucketUri}`);
  for (const object of discovery.changed) {
    const where = objectUri(object.bucket, object.key);
    report.changed.push(where);
    await recordChanged(run.protocol, run.jobId, object);
    run.event(where, 'warn', 'etag_changed', `${where} was imported before and has changed since (ETag ${object.etag}); the new content is not imported again.`);
  }
  return discovery;
}

/**
 * Imports the objects in order, small neighbours of one layout as a batch, the others one by one,
 * until all are done, the run is asked to stop, or the store or S3 keep failing.
 */
async function importObjects(
  ctx: ImportContext,
  run: ImportRun,
  toImport: readonly ObjectRef[],
  columns: TargetColumn[],
  header: HeaderRule,
  ensureSplit: EnsureSplit,
  options: SyncOptions,
): Promise<void> {
  const { report, event, lease } = run;
  const total = toImport.length;
  let transientInARow = 0;
  for (let next = 0; next < total; ) {
    if (lease.signal.aborted) break;
    if (options.signal?.aborted) {
      report.stopped = true;
      report.deferred += total - report.objects.length;
      event('', 'info', 'run_stopped', `the run was asked to stop; ${total - report.objects.length} objects are left for the next run`);
      break;
    }
    const object = toImport[next]!;
    options.onProgress?.({ done: report.objects.length, total, rows: report.rows, quarantined: report.quarantined, current: objectUri(object.bucket, object.key) });
    const { batch, first } = await gatherBatch(ctx, toImport, next, columns, header);
    const outcomes = batch.length > 1
      ? await importBatch(ctx, run.protocol, batch, run.jobId, columns, header, event, ensureSplit)
      : [await importOne(ctx, run.protocol, object, run.jobId, columns, header, event, ensureSplit, first)];
    next += outcomes.length;
    for (const outcome of outcomes) {
      columns = outcome.columns;
      report.objects.push(outcome.report);
      report.rows += outcome.report.rows;
      report.quarantined += outcome.report.quarantined;
      report.bytes += outcome.report.bytes;
      // S3 or the store failing for now: a few such failures in a row end the run; the next run retries.
      transientInARow = outcome.report.error?.retryable ? transientInARow + 1 : 0;
    }
    await run.events.flush();
    if (transientInARow >= MAX_TRANSIENT_IN_A_ROW) break;
  }
  options.onProgress?.({ done: report.objects.length, total, rows: report.rows, quarantined: report.quarantined });
}
