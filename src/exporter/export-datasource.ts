import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectCannedACL, ServerSideEncryption } from '@aws-sdk/client-s3';
import { objectUri } from '../bucket/bucket-uri.js';
import { deleteObject, objectExists } from '../bucket/write-objects.js';
import { now } from '../clock.js';
import type { Lease } from '../lease.js';
import { BucketpipeError, toErrorReport, type ErrorReport } from '../errors.js';
import { eventLog, markInterruptedJobs, recordJob, type EventLog } from '../ops/ops-log.js';
import { needsPartPlaceholder, renderTemplate } from '../project/export-template.js';
import { ensureInternalTables, INTERNAL_TABLES } from '../store/internal-tables.js';
import { catchUpReplicas } from '../store/replica-catch-up.js';
import { runStatement } from '../store/queries.js';
import { readFromServer, serverRows } from '../store/server-rows.js';
import { PIPE_READ } from '../store/local-engine.js';
import { countsNativeRows } from '../store/native-rows.js';
import type { LocalEngine } from '../store/local-engine.js';
import { readTableColumns } from '../store/table-ddl.js';
import { quoteIdentifier } from '../store/sql.js';
import type { ExportContext } from './export-context.js';
import { encodedFormat } from '../formats.js';
import { planParts, writePart, type StreamedSelect, type WriteSettings } from './write-parts.js';
import { currentImportVersion, fileOwner, lastWatermark, recordFiles, recordRun, unfinishedRuns, type ExportRun, type PlannedFile } from './export-ledger.js';
import { countSelected, exportSelect, type ExportSelect, type ImportWindow } from './export-query.js';
import { rowsState } from './rows-state.js';
import { isSharded } from '../store/cluster-layout.js';

export interface ExportOptions {
  trigger: 'scheduled' | 'on-demand';
  jobId?: string;
  /** The lease `export:<datasource>`, held for the whole run; the watermark moves only while it is proven held. */
  lease: Lease;
}

export interface ExportFileReport {
  uri: string;
  part: number;
  rows: number;
  bytes: number;
}

/** The outcome of one export run. */
export interface ExportReport {
  runId: string;
  jobId: string;
  datasource: string;
  trigger: ExportOptions['trigger'];
  strategy: 'new' | 'full';
  status: 'ok' | 'error';
  files: ExportFileReport[];
  rows: number;
  bytes: number;
  /** Runs a crash left unfinished, whose files were removed before this run. */
  recovered: number;
  startedAt: string;
  finishedAt: string;
  error?: ErrorReport;
}

const running = new Set<string>();

/**
 * plan → query → write → commit. The keys of the run's files (one per part) are recorded first; the
 * engine then encodes each file straight into the bucket, and the run's watermark moves only once
 * every file is in. A run that dies is undone by the next one (its keys are deleted), and that run
 * exports the same rows again: no duplicate, no partial file.
 */
export async function exportDatasource(ctx: ExportContext, options: ExportOptions): Promise<ExportReport> {
  const name = ctx.datasource.name;
  if (running.has(name)) throw new BucketpipeError('BUSY', `datasource ${name}: an export is already running in this process.`, { context: { datasource: name } });
  running.add(name);
  try {
    return await runExport(ctx, options);
  } finally {
    running.delete(name);
  }
}

async function runExport(ctx: ExportContext, options: ExportOptions): Promise<ExportReport> {
  const client = ctx.store.client;
  const spec = ctx.datasource.export;
  const table = ctx.datasource.name;
  const lease = options.lease;
  const startedAt = now();
  const runId = `${table}-${startedAt.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
  const jobId = options.jobId ?? runId;
  const { bucket, prefix } = spec.destination;
  const report: ExportReport = {
    runId, jobId, datasource: table, trigger: options.trigger, strategy: spec.strategy, status: 'ok', files: [], rows: 0, bytes: 0,
    recovered: 0, startedAt: startedAt.toISOString(), finishedAt: '',
  };
  const job = { jobId, datasource: table, kind: 'export' as const, trigger: options.trigger, startedAt, objects: 0, failedObjects: 0, rows: 0, quarantined: 0, bytes: 0 };
  const events = eventLog(client, job);
  const event = events.add;
  await ensureInternalTables(ctx.store);
  await recordJob(client, lease, { ...job, status: 'running' });
  for (const interrupted of await markInterruptedJobs(client, lease, { datasource: table, kind: 'export', jobId, holder: lease.holder })) {
    event('', 'warn', 'job_interrupted', `job ${interrupted.jobId} (started ${interrupted.startedAt.toISOString()}) was still running when this run took the export of ${table}: its process stopped without finishing.`);
  }
  const run: ExportRun = { datasource: table, runId, jobId, strategy: spec.strategy, status: 'running', watermarkFrom: 0, watermarkTo: 0, startedAt, files: 0, rows: 0, bytes: 0 };
  const stagingDir = join(ctx.store.scratchDir, `export-${runId}`);
  const planned: PlannedFile[] = [];
  let runRecorded = false;
  try {
    await catchUpExportLedger(ctx);
    report.recovered = await undoUnfinishedRuns(ctx, lease, event);
    await events.flush();
    if (!(await readTableColumns(client, table))) {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: table ${table} does not exist yet; push the project (and import something) before exporting it.`, { context: { datasource: table } });
    }
    if (spec.strategy === 'new' && !ctx.datasource.import) {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: EXPORT_STRATEGY new follows the rows that imports bring, and ${ctx.datasource.location.file} has no IMPORT_* settings; use EXPORT_STRATEGY full.`, { context: { datasource: table, file: spec.location.file, line: spec.location.line } });
    }
    run.watermarkFrom = await lastWatermark(client, table);
    run.watermarkTo = Math.max(run.watermarkFrom, await currentImportVersion(client, table));
    await recordRun(client, lease, run);
    runRecorded = true;

    const format = encodedFormat(spec);
    const window = spec.strategy === 'new' ? { from: run.watermarkFrom, to: run.watermarkTo } : undefined;
    const select = await exportSelect(client, ctx.store, table, spec, window);
    const writeSettings: WriteSettings = {
      format,
      contentType: format.contentType,
      sse: spec.sse as ServerSideEncryption | undefined,
      sseKmsKeyId: spec.sseKmsKeyId,
      acl: spec.acl as ObjectCannedACL | undefined,
      stagingDir,
    };
    const write = async (rows: ExportSelect | StreamedSelect) => {
      const { parts, release } = await planParts(ctx, numberedTableName(runId), rows, spec.maxRowsPerFile, spec.writeEmpty);
      try {
        if (parts.length > 1 && needsPartPlaceholder(spec.fileTemplate)) {
          throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: this run writes ${parts.length} files, but EXPORT_FILE_TEMPLATE has neither {{PART}} nor {{UUID}}, so their keys would collide; add one.`, { context: { datasource: table, file: spec.location.file, line: spec.location.line } });
        }
        const files = parts.map((p) => ({
          part: p.part,
          rows: p.rows,
          bytes: 0,
          bucket,
          key: prefix + renderTemplate(spec.fileTemplate, { table, syncId: runId, jobId, part: p.part, uuid: randomUUID(), format: format.extension, time: startedAt }),
        }));
        assertUniqueKeys(files.map((p) => p.key), table);
        // A run never writes over a file it did not write: checked before any byte is written.
        await assertKeysFree(ctx, table, files);
        planned.push(...files);
        // Keys are recorded before any byte is written: a run that dies is undone by deleting them.
        await recordFiles(client, lease, table, runId, planned, 'planned');
        for (const [i, part] of parts.entries()) {
          const file = planned[i]!;
          const written = await writePart(ctx, part, file, writeSettings);
          file.bytes = written.bytes;
          // Rows that streamed from a server are the ones the engine read, whatever the count before said.
          if (written.rows !== undefined) file.rows = written.rows;
          ctx.log.debug({ stage: 'uploaded', key: file.key, rows: file.rows }, 'stage');
          event(objectUri(bucket, file.key), 'info', 'file_written', `${objectUri(bucket, file.key)}: ${file.rows} rows, ${file.bytes} bytes`);
        }
      } finally {
        await release();
      }
    };
    if (ctx.staging && !spec.maxRowsPerFile && !spec.sse && !spec.acl) await withRowsStreamed(ctx, select, window, write, () => withRowsInWorkerEngine(ctx, ctx.staging!, runId, select, write));
    else if (ctx.staging) await withRowsInWorkerEngine(ctx, ctx.staging, runId, select, write);
    else await write(select);
    await recordFiles(client, lease, table, runId, planned, 'uploaded');
    report.files = planned.map((f) => ({ uri: objectUri(bucket, f.key), part: f.part, rows: f.rows, bytes: f.bytes }));
    report.rows = planned.reduce((sum, f) => sum + f.rows, 0);
    report.bytes = planned.reduce((sum, f) => sum + f.bytes, 0);
    // The watermark moves only while the lease is proven held: a run that lost it is undone by the
    // next one (its files removed), which exports the same rows again.
    await lease.assertHeld();
    await recordRun(client, lease, { ...run, status: 'done', finishedAt: now(), files: planned.length, rows: report.rows, bytes: report.bytes });
  } catch (error) {
    report.status = 'error';
    report.error = toErrorReport(error);
    // Files of a failed run are removed, so the bucket never holds part of a run.
    // Every planned key goes, not only the files known written: a write whose answer was lost may still have been stored.
    for (const file of planned) await deleteObject(ctx.access, file.bucket, file.key).catch(() => undefined);
    event('', 'error', 'export_failed', report.error.message);
    if (runRecorded) {
      await recordRun(client, lease, { ...run, status: 'failed', finishedAt: now(), error: report.error.message });
    }
  } finally {
    rmSync(stagingDir, { recursive: true, force: true });
  }
  const finishedAt = now();
  report.finishedAt = finishedAt.toISOString();
  await events.flush();
  await recordJob(client, lease, {
    ...job, status: report.status === 'ok' ? 'ok' : 'error', finishedAt, objects: report.files.length, rows: report.rows, bytes: report.bytes, error: report.error?.message,
  });
  return report;
}

/** Fails when a key the run would write exists already: a run never overwrites a file, its own or not. */
async function assertKeysFree(ctx: ExportContext, table: string, files: ReadonlyArray<{ bucket: string; key: string }>): Promise<void> {
  for (const file of files) {
    if (!(await objectExists(ctx.access, file.bucket, file.key))) continue;
    const owner = await fileOwner(ctx.store.client, table, file.key);
    throw new BucketpipeError(
      'KEY_EXISTS',
      `datasource ${table}: ${objectUri(file.bucket, file.key)} exists already (${owner ? `written by export run ${owner}` : 'not written by an export of this datasource'}); a run never overwrites a file, so nothing was written. Check EXPORT_FILE_TEMPLATE.`,
      { context: { datasource: table, bucket: file.bucket, key: file.key } },
    );
  }
}

function numberedTableName(runId: string): string {
  return `_bp_export_${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * With a server as the store, the run's rows are copied from the server into a table of the worker's
 * engine, which then encodes them: Parquet works whatever the server can write, and memory stays
 * bounded. The engine reads them from the server itself where it can; else they travel through Node
 * in the server's row format (`ServerCapabilities.rowFormat`): Native where the server has it,
 * TabSeparated, which every version writes, where it has no binary one.
 */
async function withRowsInWorkerEngine<T>(
  ctx: ExportContext,
  staging: LocalEngine,
  runId: string,
  select: ExportSelect,
  encode: (local: ExportSelect) => Promise<T>,
): Promise<T> {
  const localName = `_bp_export_rows_${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
  try {
    ctx.log.debug({ stage: 'export_local_rows', ...(await readFromServer(ctx.store, staging, select, localName)) }, 'stage');
    return await encode({ sql: `SELECT * FROM ${quoteIdentifier(localName)}`, settings: {} });
  } finally {
    await runStatement(staging.client, `DROP TABLE IF EXISTS ${quoteIdentifier(localName)}`);
  }
}

/**
 * With a server as the store and one file per run, written by the worker's engine: the run's rows
 * stream from the server straight into the engine's write of the file, in the server's row format,
 * without a local copy first. The server counts them first, to plan the file.
 *
 * Where it can, the engine reads the server itself (`engine-reads-server.ts`); the file then holds
 * the count only if the rows did not change between the count and the read, which `rowsState`
 * checks after the write. Otherwise, and where the engine cannot reach the server, the rows pass
 * through Node into the engine (`LocalEngine.runOverStream`) and are counted as they pass
 * (`nativeRowCounter`), so the count is what the file holds. A run with no rows, or with columns
 * whose Native layout is not known there, takes the local way (`otherwise`).
 */
async function withRowsStreamed(
  ctx: ExportContext,
  select: ExportSelect,
  window: ImportWindow | undefined,
  encode: (rows: StreamedSelect) => Promise<void>,
  otherwise: () => Promise<void>,
): Promise<void> {
  const local = () => {
    ctx.log.debug({ stage: 'export_rows', via: 'local' }, 'stage');
    return otherwise();
  };
  const feed = await serverRows(ctx.store, select);
  // Rows are counted as they pass (the count of the file): Native, of types whose layout is known.
  if (feed.format !== 'Native' || !countsNativeRows(feed.columns.map((c) => c.type))) return local();
  // The state is that of the table's own parts: a query of the user's may read others, and a
  // Distributed table's rows are on other nodes.
  const checkable = feed.direct && ctx.datasource.export.query === undefined && !isSharded(ctx.store.cluster);
  const state = checkable ? () => rowsState(ctx.store.client, ctx.datasource.name, window) : undefined;
  const before = state && (await state());
  const total = await countSelected(ctx.store.client, select);
  if (total === 0) return local();
  const direct = state && feed.direct ? { ...feed.direct, unchanged: async () => (await state()) === before } : undefined;
  await encode({ sql: `SELECT * FROM ${PIPE_READ}`, settings: {}, feed, total, direct });
}

/** Deletes the files of runs a crash left unfinished and marks them aborted; their rows go out again now. */
async function undoUnfinishedRuns(ctx: ExportContext, lease: Lease, event: EventLog['add']): Promise<number> {
  const unfinished = await unfinishedRuns(ctx.store.client, ctx.datasource.name);
  for (const { run, files } of unfinished) {
    await lease.assertHeld();
    for (const file of files) await deleteObject(ctx.access, file.bucket, file.key);
    await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(numberedTableName(run.runId))}`);
    await recordRun(ctx.store.client, lease, { ...run, status: 'aborted', finishedAt: now(), error: 'the run was interrupted; its files were removed' });
    event('', 'warn', 'export_undone', `export run ${run.runId} was interrupted; its ${files.length} planned files were removed and its rows are exported again`);
  }
  return unfinished.length;
}

function assertUniqueKeys(keys: readonly string[], table: string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: EXPORT_FILE_TEMPLATE renders the key ${key} for two files of one run; add {{PART}} or {{UUID}}.`);
    seen.add(key);
  }
}

/**
 * On a cluster, the run's window and its predecessors' files are read from this node's copies of the
 * ledgers: a commit another node made that this copy lacks would fall below the window's end and
 * never be exported. Unlike an import (whose double loads are undone later), an export cannot go on
 * without them: it fails, to be tried again.
 */
async function catchUpExportLedger(ctx: ExportContext): Promise<void> {
  if (await catchUpReplicas(ctx.store, [INTERNAL_TABLES.ledger, INTERNAL_TABLES.exports, INTERNAL_TABLES.exportFiles])) return;
  throw new BucketpipeError(
    'STORE_UNAVAILABLE',
    `datasource ${ctx.datasource.name}: this node's copy of the ledger is still behind the other nodes' writes after ${ctx.store.cluster!.catchUpMs} ms (is a node down?); the export is tried again later.`,
    { context: { datasource: ctx.datasource.name } },
  );
}
