import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectCannedACL, ServerSideEncryption } from '@aws-sdk/client-s3';
import { objectUri, parseExportUri } from '../bucket/bucket-uri.js';
import { deleteObject, uploadFile } from '../bucket/write-objects.js';
import { BucketpipeError, toErrorReport, type ErrorReport } from '../errors.js';
import { recordEvents, recordJob, type OpsEvent } from '../ops/ops-log.js';
import { needsPartPlaceholder, renderTemplate } from '../project/export-template.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { runStatement, selectRows, settingsClause, type QuerySettings } from '../store/queries.js';
import type { LocalEngine } from '../store/local-engine.js';
import { readTableColumns } from '../store/table-ddl.js';
import { quoteIdentifier } from '../store/sql.js';
import type { ExportContext } from './export-context.js';
import { encodedFormat, type EncodedFormat } from './export-formats.js';
import { currentImportVersion, lastWatermark, recordFiles, recordRun, unfinishedRuns, type ExportRun, type PlannedFile } from './export-ledger.js';
import { exportSelect, type ExportSelect } from './export-query.js';

export interface ExportOptions {
  trigger: 'scheduled' | 'on-demand';
  jobId?: string;
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
 * plan → query → encode → upload → commit. The engine encodes the run's rows into local files (one
 * per part); each file is streamed to the bucket; the keys are recorded before any upload, and the
 * run's watermark moves only once every file is in. A run that dies is undone by the next one (its
 * keys are deleted), and that run exports the same rows again: no duplicate, no partial file.
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
  const runId = `${table}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const jobId = options.jobId ?? runId;
  const startedAt = new Date();
  const { bucket, prefix } = parseExportUri(spec.bucketUri);
  const report: ExportReport = {
    runId, jobId, datasource: table, trigger: options.trigger, strategy: spec.strategy, status: 'ok', files: [], rows: 0, bytes: 0,
    recovered: 0, startedAt: startedAt.toISOString(), finishedAt: '',
  };
  const events: OpsEvent[] = [];
  const event = (object: string, level: OpsEvent['level'], name: string, message: string) => events.push({ jobId, datasource: table, object, level, event: name, message });
  const job = { jobId, datasource: table, kind: 'export' as const, trigger: options.trigger, startedAt, objects: 0, failedObjects: 0, rows: 0, quarantined: 0, bytes: 0 };
  await ensureInternalTables(ctx.store);
  await recordJob(client, { ...job, status: 'running' });
  const run: ExportRun = { datasource: table, runId, jobId, strategy: spec.strategy, status: 'running', watermarkFrom: 0, watermarkTo: 0, startedAt, files: 0, rows: 0, bytes: 0 };
  const stagingDir = join(ctx.store.scratchDir, `export-${runId}`);
  // Files whose upload began: a failed upload may still have been stored (its answer was lost), so each is removed on failure.
  const attempted: PlannedFile[] = [];
  let runRecorded = false;
  try {
    report.recovered = await undoUnfinishedRuns(ctx, event);
    if (!(await readTableColumns(client, table))) {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: table ${table} does not exist yet; push the project (and import something) before exporting it.`, { context: { datasource: table } });
    }
    if (spec.strategy === 'new' && !ctx.datasource.import) {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: EXPORT_STRATEGY new follows the rows that imports bring, and ${ctx.datasource.location.file} has no IMPORT_* settings; use EXPORT_STRATEGY full.`, { context: { datasource: table, file: spec.location.file, line: spec.location.line } });
    }
    run.watermarkFrom = await lastWatermark(client, table);
    run.watermarkTo = Math.max(run.watermarkFrom, await currentImportVersion(client, table));
    await recordRun(client, run);
    runRecorded = true;

    const format = encodedFormat(spec);
    const window = spec.strategy === 'new' ? { from: run.watermarkFrom, to: run.watermarkTo } : undefined;
    const select = await exportSelect(client, ctx.store.capabilities, table, spec, window);
    mkdirSync(stagingDir, { recursive: true });
    const staged = ctx.staging
      ? await withRowsInWorkerEngine(ctx, ctx.staging, runId, select, (local) => encodeToFiles(ctx, runId, local, format, stagingDir, spec.maxRowsPerFile, spec.writeEmpty))
      : await encodeToFiles(ctx, runId, select, format, stagingDir, spec.maxRowsPerFile, spec.writeEmpty);
    if (staged.length > 1 && needsPartPlaceholder(spec.fileTemplate)) {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: this run writes ${staged.length} files, but EXPORT_FILE_TEMPLATE has neither {{PART}} nor {{UUID}}, so their keys would collide; add one.`, { context: { datasource: table, file: spec.location.file, line: spec.location.line } });
    }
    const planned: Array<PlannedFile & { path: string }> = staged.map((file) => ({
      ...file,
      bucket,
      key: prefix + renderTemplate(spec.fileTemplate, { table, syncId: runId, jobId, part: file.part, uuid: randomUUID(), format: format.extension, time: startedAt }),
    }));
    assertUniqueKeys(planned.map((p) => p.key), table);
    await recordFiles(client, table, runId, planned, 'planned');
    for (const file of planned) {
      attempted.push(file);
      await uploadFile(ctx.access, bucket, file.key, file.path, {
        contentType: format.contentType,
        sse: spec.sse as ServerSideEncryption | undefined,
        sseKmsKeyId: spec.sseKmsKeyId,
        acl: spec.acl as ObjectCannedACL | undefined,
      });
      ctx.log.debug({ stage: 'uploaded', key: file.key, rows: file.rows }, 'stage');
      event(objectUri(bucket, file.key), 'info', 'file_written', `${objectUri(bucket, file.key)}: ${file.rows} rows, ${file.bytes} bytes`);
    }
    await recordFiles(client, table, runId, planned, 'uploaded');
    report.files = planned.map((f) => ({ uri: objectUri(bucket, f.key), part: f.part, rows: f.rows, bytes: f.bytes }));
    report.rows = planned.reduce((sum, f) => sum + f.rows, 0);
    report.bytes = planned.reduce((sum, f) => sum + f.bytes, 0);
    await recordRun(client, { ...run, status: 'done', finishedAt: new Date(), files: planned.length, rows: report.rows, bytes: report.bytes });
  } catch (error) {
    report.status = 'error';
    report.error = toErrorReport(error);
    // Files of a failed run are removed, so the bucket never holds part of a run.
    for (const file of attempted) await deleteObject(ctx.access, file.bucket, file.key).catch(() => undefined);
    event('', 'error', 'export_failed', report.error.message);
    if (runRecorded) {
      await recordRun(client, { ...run, status: 'failed', finishedAt: new Date(), error: report.error.message });
    }
  } finally {
    rmSync(stagingDir, { recursive: true, force: true });
  }
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  await recordEvents(client, events);
  await recordJob(client, {
    ...job, status: report.status === 'ok' ? 'ok' : 'error', finishedAt, objects: report.files.length, rows: report.rows, bytes: report.bytes, error: report.error?.message,
  });
  return report;
}

interface StagedFile {
  part: number;
  path: string;
  rows: number;
  bytes: number;
}

/**
 * The engine writes the rows as files in the staging folder. In parts of EXPORT_MAX_ROWS_PER_FILE
 * rows, the rows are first numbered into a staging table (the engine's row numbering is only
 * reliable in a SELECT, not in a partitioned write), then each part is written from its range.
 */
async function encodeToFiles(
  ctx: ExportContext,
  runId: string,
  select: ExportSelect,
  format: EncodedFormat,
  dir: string,
  maxRows: number | undefined,
  writeEmpty: boolean,
): Promise<StagedFile[]> {
  const client = ctx.engine;
  const write = (part: number, sql: string, settings: QuerySettings) =>
    runStatement(
      client,
      `INSERT INTO FUNCTION file({path:String}, {format:String}, 'auto', {compression:String}) ${sql}`,
      { path: join(dir, `part_${part}.${format.extension}`), format: format.engineFormat, compression: format.compression },
      { ...format.settings, ...settings, engine_file_truncate_on_insert: 1 },
    );
  const staged = (part: number, rows: number): StagedFile => {
    const path = join(dir, `part_${part}.${format.extension}`);
    return { part, path, rows, bytes: statSync(path).size };
  };
  if (!maxRows) {
    await write(0, select.sql, select.settings);
    const rows = await countFileRows(client, select, format, join(dir, `part_0.${format.extension}`));
    if (rows > 0) return [staged(0, rows)];
    if (!writeEmpty) return [];
    await write(0, `SELECT * FROM (${select.sql}) LIMIT 0`, select.settings);
    return [staged(0, 0)];
  }
  const numbered = quoteIdentifier(numberedTableName(runId));
  await runStatement(client, `DROP TABLE IF EXISTS ${numbered}`);
  await runStatement(
    client,
    `CREATE TABLE ${numbered} ENGINE = MergeTree ORDER BY ${ROW_NUMBER} AS SELECT *, rowNumberInAllBlocks() AS ${ROW_NUMBER} FROM (${select.sql})`,
    {},
    select.settings,
  );
  try {
    const total = Number((await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM ${numbered}`))[0]?.n ?? 0);
    if (total === 0) {
      if (!writeEmpty) return [];
      await write(0, `SELECT * EXCEPT ${ROW_NUMBER} FROM ${numbered}`, {});
      return [staged(0, 0)];
    }
    const files: StagedFile[] = [];
    for (let part = 0; part * maxRows < total; part++) {
      await write(part, `SELECT * EXCEPT ${ROW_NUMBER} FROM ${numbered} WHERE ${ROW_NUMBER} >= ${part * maxRows} AND ${ROW_NUMBER} < ${(part + 1) * maxRows} ORDER BY ${ROW_NUMBER}`, {});
      files.push(staged(part, Math.min(maxRows, total - part * maxRows)));
    }
    return files;
  } finally {
    await runStatement(client, `DROP TABLE IF EXISTS ${numbered}`);
  }
}

const ROW_NUMBER = '_bp_row_number';

function numberedTableName(runId: string): string {
  return `_bp_export_${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Rows in a staged file; with the structure given, a file holding no row (a header alone) counts 0. */
async function countFileRows(client: ExportContext['store']['client'], select: ExportSelect, format: EncodedFormat, path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const columns = await selectRows<{ name: string; type: string }>(client, `DESCRIBE (${select.sql})`, {}, select.settings);
  const rows = await selectRows<{ n: string | number }>(
    client,
    `SELECT count() AS n FROM file({path:String}, {format:String}, {structure:String})`,
    { path, format: format.engineFormat, structure: columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ') },
    format.settings,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * With a server as the store, the run's rows stream from the server (TabSeparated, which every version
 * writes) into a table of the worker's engine, which then encodes them: Parquet works whatever the
 * server can write, and memory stays bounded.
 */
async function withRowsInWorkerEngine<T>(
  ctx: ExportContext,
  staging: LocalEngine,
  runId: string,
  select: ExportSelect,
  encode: (local: ExportSelect) => Promise<T>,
): Promise<T> {
  const columns = await selectRows<{ name: string; type: string }>(ctx.store.client, `DESCRIBE (${select.sql})`, {}, select.settings);
  const localName = `_bp_export_rows_${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const local = quoteIdentifier(localName);
  await runStatement(staging.client, `DROP TABLE IF EXISTS ${local}`);
  await runStatement(staging.client, `CREATE TABLE ${local} (${columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`);
  try {
    const rows = await ctx.store.client.exec({ query: `${select.sql}${settingsClause(select.settings)} FORMAT TabSeparated` });
    await staging.insertStream(localName, rows.stream, 'TabSeparated');
    return await encode({ sql: `SELECT * FROM ${local}`, settings: {} });
  } finally {
    await runStatement(staging.client, `DROP TABLE IF EXISTS ${local}`);
  }
}

/** Deletes the files of runs a crash left unfinished and marks them aborted; their rows go out again now. */
async function undoUnfinishedRuns(ctx: ExportContext, event: (object: string, level: OpsEvent['level'], name: string, message: string) => void): Promise<number> {
  const unfinished = await unfinishedRuns(ctx.store.client, ctx.datasource.name);
  for (const { run, files } of unfinished) {
    for (const file of files) await deleteObject(ctx.access, file.bucket, file.key);
    await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(numberedTableName(run.runId))}`);
    await recordRun(ctx.store.client, { ...run, status: 'aborted', finishedAt: new Date(), error: 'the run was interrupted; its files were removed' });
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
