import { randomBytes } from 'node:crypto';
import { objectUri } from '../bucket/bucket-uri.js';
import type { ObjectRef } from '../bucket/list-objects.js';
import { now } from '../clock.js';
import { BucketpipeError, toErrorReport, type ErrorReport } from '../errors.js';
import type { Lease } from '../lease.js';
import { eventLog, markInterruptedJobs, recordJob, type EventLog, type JobRecord, type JobStatus } from '../ops/ops-log.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { runStatement } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { addColumns, ensureTagSource, loadableColumns, quarantineTableSql, readTableColumns, stagingTableSql, type ColumnDefinition } from '../store/table-ddl.js';
import { checkColumnsForStore } from '../push/validate-types.js';
import { describeFigures } from './accounting.js';
import type { TargetColumn } from './cast-expressions.js';
import { abandon, claim, commit, newAttempt, recordChanged, recoverUnfinished, type AttemptContext } from './commit.js';
import { createDatasourceTables, datasourceRecord } from './datasource-tables.js';
import { ambiguousHeaderNote, headerRule, type HeaderRule } from './csv-header.js';
import { discoverObjects } from './discover.js';
import type { ImportContext } from './import-context.js';
import { evolvedColumns, inferColumns } from './infer-columns.js';
import { readLedger } from './ledger.js';
import { loadObject, loadObjects, stagingTargets } from './load-object.js';
import { mapObjectColumns, unmappedColumns } from './map-columns.js';
import { createSplitPipeline, dropSplitPipeline } from './pipeline.js';
import { probeObject, type ObjectLayout } from './probe-object.js';
import { releaseConversions } from './text-encoding.js';
import { defaultJsonPath, parseJsonPath } from './json-path.js';

export interface SyncOptions {
  trigger: 'auto' | 'on-demand';
  /** At most this many objects; default IMPORT_MAX_FILES_PER_RUN for `auto`, all for `on-demand`. */
  limit?: number;
  /** Import objects that failed before with the same ETag. */
  retryFailed?: boolean;
  jobId?: string;
  onProgress?: (progress: SyncProgress) => void;
  /** Stops the run between two objects (the object being loaded is finished first). */
  signal?: AbortSignal;
  /** The datasource's lease, held for the whole run; every ledger write is versioned and checked by it. */
  lease: Lease;
}

export interface SyncProgress {
  done: number;
  total: number;
  rows: number;
  quarantined: number;
  current?: string;
}

/** What happened to one object in a run. */
export interface ObjectReport {
  uri: string;
  etag: string;
  status: 'imported' | 'failed';
  rows: number;
  quarantined: number;
  /** Records read (a CSV header line included); every one is a row, a quarantined row or the header. */
  records: number;
  /** Of the records, the CSV header line (0 or 1). */
  headerLines: number;
  bytes: number;
  addedColumns: string[];
  error?: ErrorReport;
}

/** The outcome of one import run. */
export interface ImportReport {
  jobId: string;
  datasource: string;
  trigger: 'auto' | 'on-demand';
  status: JobStatus;
  objects: ObjectReport[];
  rows: number;
  quarantined: number;
  bytes: number;
  /** Objects under the URI that match its pattern, imported or not (0: the URI matches nothing, yet). */
  matched: number;
  /** New objects left for later runs by the per-run limit. */
  deferred: number;
  /** Imported keys that came back with another ETag (reported, not imported). */
  changed: string[];
  /** Objects that failed in an earlier run and were not tried again. */
  skippedFailed: number;
  /** Interrupted imports undone before this run. */
  recovered: number;
  /** The run was asked to stop before it took every object (the rest is left for the next run). */
  stopped: boolean;
  startedAt: string;
  finishedAt: string;
  error?: ErrorReport;
}

const running = new Set<string>();
const MAX_TRANSIENT_IN_A_ROW = 3;

type Event = EventLog['add'];

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
  // The split is built when a load first needs it (a Parquet run may need none), and again for new columns.
  let splitFor: readonly TargetColumn[] | undefined;
  const ensureSplit: EnsureSplit = async (columns) => {
    if (splitFor === columns) return;
    await prepareSplit(ctx, columns);
    splitFor = columns;
  };
  try {
    let ledger = await readLedger(client, spec.name);
    const undone = await recoverUnfinished(protocol, ledger, jobId);
    for (const attempt of undone) {
      for (const object of attempt.objects) {
        const where = objectUri(object.bucket, object.key);
        event(where, 'warn', 'import_undone', `an interrupted import of ${where} was undone; the object is imported again.`);
      }
    }
    report.recovered = undone.reduce((sum, a) => sum + a.objects.length, 0);
    if (undone.length > 0) {
      // Recoveries are written at once: the ops log tells of them even if this run dies too.
      await events.flush();
      ledger = await readLedger(client, spec.name);
    }
    const uri = spec.import.uri;
    const limit = options.limit ?? (options.trigger === 'auto' ? spec.import.maxFilesPerRun : undefined);
    const discovery = await discoverObjects(ctx.access, uri, ledger, { limit, retryFailed: options.retryFailed });
    report.matched = discovery.matched;
    report.deferred = discovery.deferred;
    report.skippedFailed = discovery.failed.length;
    // Not an error (objects may come later), but a likely typo in the URI: say so where it is seen.
    if (discovery.matched === 0) event('', 'info', 'no_match', `no object matches ${spec.import.bucketUri}`);
    for (const object of discovery.changed) {
      const where = objectUri(object.bucket, object.key);
      report.changed.push(where);
      await recordChanged(protocol, jobId, object);
      event(where, 'warn', 'etag_changed', `${where} was imported before and has changed since (ETag ${object.etag}); the new content is not imported again.`);
    }

    let columns = await targetColumns(ctx, lease, discovery.toImport[0], event);
    const header = columns && (await csvHeaderRule(ctx, columns));
    const total = discovery.toImport.length;
    let transientInARow = 0;
    for (let next = 0; next < total; ) {
      if (lease.signal.aborted) break;
      if (options.signal?.aborted) {
        report.stopped = true;
        report.deferred += total - report.objects.length;
        event('', 'info', 'run_stopped', `the run was asked to stop; ${total - report.objects.length} objects are left for the next run`);
        break;
      }
      const object = discovery.toImport[next]!;
      options.onProgress?.({ done: report.objects.length, total, rows: report.rows, quarantined: report.quarantined, current: objectUri(object.bucket, object.key) });
      const { batch, first } = await gatherBatch(ctx, discovery.toImport, next, columns!, header!);
      const outcomes = batch.length > 1
        ? await importBatch(ctx, protocol, batch, jobId, columns!, header!, event, ensureSplit)
        : [await importOne(ctx, protocol, object, jobId, columns!, header!, event, ensureSplit, first)];
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
      await events.flush();
      if (transientInARow >= MAX_TRANSIENT_IN_A_ROW) break;
    }
    options.onProgress?.({ done: report.objects.length, total, rows: report.rows, quarantined: report.quarantined });
    if (lease.signal.aborted) throw lease.signal.reason;
    const failed = report.objects.filter((o) => o.status === 'failed');
    report.status = failed.length === 0 ? 'ok' : failed.length === report.objects.length ? 'error' : 'partial';
    if (failed.length > 0) report.error = failed[0]!.error;
  } catch (error) {
    report.status = 'error';
    report.error = toErrorReport(error);
    event('', 'error', 'job_failed', report.error.message);
  } finally {
    if (splitFor) await dropSplit(ctx).catch(() => undefined);
    releaseConversions(ctx);
  }
  const finishedAt = now();
  report.finishedAt = finishedAt.toISOString();
  await events.flush();
  await recordJob(client, lease, {
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

/** The columns rows are loaded into; creates the tables first when they do not exist yet. */
async function targetColumns(ctx: ImportContext, lease: Lease, firstObject: ObjectRef | undefined, event: Event): Promise<TargetColumn[] | undefined> {
  const client = ctx.store.client;
  const existing = await readTableColumns(client, ctx.datasource.name);
  if (existing) {
    if (ctx.store.capabilities.ephemeralColumns) await ensureTagSource(ctx.store, ctx.datasource.name, existing);
    return loadableColumns(existing);
  }
  if (ctx.datasource.schema) {
    await createDatasourceTables(ctx.store, ctx.datasource, ctx.datasource.schema, lease);
  } else {
    if (!firstObject) return undefined;
    const layout = await probeObject(ctx, firstObject, { csvHeader: headerRule(ctx.datasource) });
    const where = objectUri(firstObject.bucket, firstObject.key);
    if (layout.columns.length === 0) {
      throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', `datasource ${ctx.datasource.name}: cannot infer a schema from ${where} (it has no columns); add a SCHEMA to ${ctx.datasource.location.file}.`, { context: { datasource: ctx.datasource.name } });
    }
    if (layout.ambiguousHeader) event(where, 'warn', 'csv_header_ambiguous', `${ctx.datasource.import.location.file}:${ctx.datasource.import.location.line}: ${ambiguousHeaderNote(where, layout.ambiguousHeader, ctx.datasource.name)}`);
    const inferred = await inferColumns(ctx, layout);
    await assertStorable(ctx, inferred, where);
    // The reference object's decision is recorded with the tables: every later object is read the same way.
    await createDatasourceTables(ctx.store, ctx.datasource, inferred, lease, firstObject, layout.csv?.hasHeader);
  }
  return loadableColumns((await readTableColumns(client, ctx.datasource.name))!);
}

/** Inferred columns the store cannot hold fail here, each named, rather than with the store's raw error. */
async function assertStorable(ctx: ImportContext, columns: readonly ColumnDefinition[], inferredFrom: string): Promise<void> {
  const location = ctx.datasource.import.location;
  const { problems } = await checkColumnsForStore(ctx.store, columns.map((c) => ({ ...c, location })), inferredFrom);
  if (problems.length === 0) return;
  throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', problems.map((p) => `${p.location.file}:${p.location.line}: ${p.message}`).join('\n'), {
    context: { datasource: ctx.datasource.name, file: location.file, line: location.line },
  });
}

/** How the first rows of this run's CSV objects are read: the datasource's one decision. */
async function csvHeaderRule(ctx: ImportContext, columns: readonly TargetColumn[]): Promise<HeaderRule> {
  const names = columns.map((c) => c.name);
  const spec = ctx.datasource;
  if (spec.import.csvHeader !== undefined || spec.schema) return headerRule(spec, { columns: names });
  return headerRule(spec, { columns: names, csvHeader: (await datasourceRecord(ctx.store.client, spec.name)).csvHeader });
}

async function importOne(
  ctx: ImportContext,
  protocol: AttemptContext,
  object: ObjectRef,
  jobId: string,
  columns: TargetColumn[],
  header: HeaderRule,
  event: Event,
  ensureSplit: EnsureSplit,
  probed?: ObjectLayout,
): Promise<{ report: ObjectReport; columns: TargetColumn[] }> {
  const client = ctx.store.client;
  const spec = ctx.datasource;
  const uri = objectUri(object.bucket, object.key);
  const attempt = newAttempt(protocol, jobId, [object]);
  const importId = attempt.importId;
  const report: ObjectReport = { uri, etag: object.etag, status: 'imported', rows: 0, quarantined: 0, records: 0, headerLines: 0, bytes: object.size, addedColumns: [] };
  try {
    await claim(protocol, attempt);
    ctx.log.debug({ stage: 'claimed', object: uri, importId }, 'stage');
    const layout = probed ?? (await probeObject(ctx, object, { describeJson: !spec.schema, knownColumns: columns.map((c) => c.name), csvHeader: header }));
    const matched = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(spec.schema));
    if (matched.byPosition) {
      event(uri, 'info', 'columns_by_position', `${uri} shares no column name with the SCHEMA of ${spec.name}; its columns were matched by position`);
    }
    const extra = unmappedColumns(matched.mapping, layout.columns.map((c) => c.name));
    if (extra.length > 0 && !spec.schema) {
      const added = evolvedColumns(await inferColumns(ctx, layout, layout.columns.filter((c) => extra.includes(c.name))));
      await assertStorable(ctx, added, uri);
      await addColumns(ctx.store, spec.name, added);
      columns = loadableColumns((await readTableColumns(client, spec.name))!);
      report.addedColumns = added.map((c) => c.name);
      event(uri, 'info', 'columns_added', `${uri} brought new columns; added to ${spec.name}: ${added.map((c) => `${c.name} ${c.type}`).join(', ')}`);
    } else if (extra.length > 0 && layout.format !== 'ndjson') {
      event(uri, 'info', 'columns_ignored', `${uri} has columns the SCHEMA of ${spec.name} does not declare; they were not imported: ${extra.join(', ')}`);
    }
    if (ignoresEmptyKey(ctx, layout)) {
      event(uri, 'warn', 'empty_key_ignored', `${uri} has the key "" (an empty name), which no column of ${spec.name} reads, so its values were not imported; to import them, declare a column with \`json:$['']\` in the SCHEMA of ${spec.location.file}`);
    }
    ctx.log.debug({ stage: 'loading', object: uri, importId }, 'stage');
    const result = await loadObject(ctx, layout, columns, importId, () => ensureSplit(columns));
    ctx.log.debug({ stage: 'loaded', object: uri, importId, rows: result.rows }, 'stage');
    await commit(protocol, attempt, [result]);
    Object.assign(report, { rows: result.rows, quarantined: result.quarantined, records: result.records, headerLines: result.headerLines });
    ctx.log.debug({ stage: 'done', object: uri, importId }, 'stage');
    event(uri, result.quarantined > 0 ? 'warn' : 'info', 'object_imported', `${uri}: ${describeFigures(result)}`);
  } catch (error) {
    const failure = toErrorReport(ctx.signal?.aborted ? ctx.signal.reason : error);
    ctx.log.warn({ stage: 'failed', object: uri, importId, code: failure.code }, failure.message);
    report.status = 'failed';
    report.error = failure;
    await abandon(protocol, attempt, failure);
    event(uri, 'error', 'object_failed', failure.message);
  }
  return { report, columns };
}

/** An NDJSON object with the key "" that no SCHEMA column reads (`json:$['']`): its values would go unseen. */
function ignoresEmptyKey(ctx: ImportContext, layout: ObjectLayout): boolean {
  if (!layout.emptyKey) return false;
  return !(ctx.datasource.schema ?? []).some((c) => parseJsonPath(c.jsonPath ?? defaultJsonPath(c.name))?.[0] === '');
}

/** Builds the split for these columns unless it stands already. */
type EnsureSplit = (columns: readonly TargetColumn[]) => Promise<void>;

/** Objects at most this big are loaded together with their neighbours of the same layout. */
const SMALL_OBJECT_BYTES = 8 * 1024 * 1024;
const BATCH_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The small objects from `from` on that one statement can load together: same layout, columns the
 * table has, nothing to infer. Per-object costs (claims, tags, counts) then fall on the batch.
 */
async function gatherBatch(
  ctx: ImportContext,
  objects: readonly ObjectRef[],
  from: number,
  columns: readonly TargetColumn[],
  header: HeaderRule,
): Promise<{ batch: ObjectLayout[]; first?: ObjectLayout }> {
  const spec = ctx.datasource;
  const batch: ObjectLayout[] = [];
  // The first object's layout, once probed, is handed on rather than probed again when it loads alone.
  let first: ObjectLayout | undefined;
  let bytes = 0;
  let signature: string | undefined;
  for (let i = from; i < objects.length && batch.length < (ctx.batchObjects ?? 100); i++) {
    const object = objects[i]!;
    if (object.size > SMALL_OBJECT_BYTES || bytes + object.size > BATCH_MAX_BYTES) break;
    let layout: ObjectLayout;
    try {
      layout = await probeObject(ctx, object, { describeJson: !spec.schema, knownColumns: columns.map((c) => c.name), csvHeader: header });
    } catch {
      break; // loaded alone, where its failure is reported
    }
    if (i === from) first = layout;
    if (layout.empty || layout.format === 'parquet' || (layout.format === 'csv' && layout.columns.length === 0)) break;
    // Loaded alone, where what it leaves out is told.
    if (ignoresEmptyKey(ctx, layout)) break;
    const matched = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(spec.schema));
    if (matched.byPosition || unmappedColumns(matched.mapping, layout.columns.map((c) => c.name)).length > 0) break;
    const shape = JSON.stringify([layout.format, layout.csv, layout.jsonArray ?? false, layout.source.compression, layout.columns.map((c) => c.name)]);
    if (signature !== undefined && shape !== signature) break;
    signature = shape;
    batch.push(layout);
    bytes += object.size;
  }
  return { batch, first };
}

/**
 * Loads a batch of objects as one attempt: claimed together, loaded by one statement, committed
 * together. If anything fails, the batch is undone and its objects are imported one by one, so a bad
 * object fails alone.
 */
async function importBatch(
  ctx: ImportContext,
  protocol: AttemptContext,
  layouts: readonly ObjectLayout[],
  jobId: string,
  columns: TargetColumn[],
  header: HeaderRule,
  event: Event,
  ensureSplit: EnsureSplit,
): Promise<Array<{ report: ObjectReport; columns: TargetColumn[] }>> {
  const attempt = newAttempt(protocol, jobId, layouts.map((l) => l.object));
  const importId = attempt.importId;
  const uris = layouts.map((l) => objectUri(l.object.bucket, l.object.key));
  const stage = (name: string) => uris.forEach((uri) => ctx.log.debug({ stage: name, object: uri, importId }, 'stage'));
  try {
    await claim(protocol, attempt);
    stage('claimed');
    stage('loading');
    const results = await loadObjects(ctx, layouts, columns, importId, () => ensureSplit(columns));
    stage('loaded');
    await commit(protocol, attempt, results);
    stage('done');
    return layouts.map((layout, i) => {
      const result = results[i]!;
      event(uris[i]!, result.quarantined > 0 ? 'warn' : 'info', 'object_imported', `${uris[i]}: ${describeFigures(result)}`);
      return {
        report: {
          uri: uris[i]!, etag: layout.object.etag, status: 'imported', rows: result.rows, quarantined: result.quarantined,
          records: result.records, headerLines: result.headerLines, bytes: layout.object.size, addedColumns: [],
        },
        columns,
      };
    });
  } catch (error) {
    const failure = toErrorReport(ctx.signal?.aborted ? ctx.signal.reason : error);
    ctx.log.debug({ stage: 'batch_failed', objects: uris.length, importId, code: failure.code }, 'stage');
    // Undone and recorded `retry`: the objects are loaded one by one now, each as an attempt of its own.
    await abandon(protocol, attempt, { ...failure, retryable: true });
    if (ctx.signal?.aborted) {
      return layouts.map((layout, i) => ({
        report: { uri: uris[i]!, etag: layout.object.etag, status: 'failed', rows: 0, quarantined: 0, records: 0, headerLines: 0, bytes: layout.object.size, addedColumns: [], error: failure },
        columns,
      }));
    }
    const outcomes: Array<{ report: ObjectReport; columns: TargetColumn[] }> = [];
    for (const layout of layouts) {
      const outcome = await importOne(ctx, protocol, layout.object, jobId, columns, header, event, ensureSplit, layout);
      columns = outcome.columns;
      outcomes.push(outcome);
    }
    return outcomes;
  }
}

/**
 * The split of a run: in the store itself, or, with a server as the store, in the worker's engine
 * with staging tables shaped like the server's tables.
 */
async function prepareSplit(ctx: ImportContext, columns: readonly TargetColumn[]): Promise<void> {
  const name = ctx.datasource.name;
  if (!ctx.staging) return createSplitPipeline(ctx.engine, name, columns, undefined, ctx.testFault);
  await dropSplit(ctx);
  const targets = stagingTargets(name);
  await runStatement(ctx.engine, stagingTableSql(targets.data, columns));
  await runStatement(ctx.engine, quarantineTableSql(name, columns, targets.quarantine));
  await createSplitPipeline(ctx.engine, name, columns, targets, ctx.testFault);
}

async function dropSplit(ctx: ImportContext): Promise<void> {
  await dropSplitPipeline(ctx.engine, ctx.datasource.name);
  if (!ctx.staging) return;
  const targets = stagingTargets(ctx.datasource.name);
  await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(targets.data)}`);
  await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(targets.quarantine)}`);
}

function newJobId(datasource: string): string {
  return `${datasource}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
