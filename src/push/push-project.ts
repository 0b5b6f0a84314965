import { hostname } from 'node:os';
import { ListObjectsV2Command, type ObjectCannedACL, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { checkWritable } from '../bucket/write-objects.js';
import type { App } from '../app.js';
import { objectUri, keyMatcher } from '../bucket/bucket-uri.js';
import { listObjects, type ObjectRef } from '../bucket/list-objects.js';
import { explainS3Error } from '../bucket/s3-errors.js';
import { BucketpipeError, toErrorReport } from '../errors.js';
import { createDatasourceTables, ensureQuarantineTable } from '../importer/schema/datasource-tables.js';
import { inferObjectColumns } from '../importer/schema/inferred-columns.js';
import { referenceObject } from '../importer/discover/reference-object.js';
import { formatProblem } from '../project/load-project.js';
import type { DatasourceSpec, ProjectProblem } from '../project/types.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { addColumns, loadableColumns, readTableColumns, type ColumnDefinition } from '../store/table-ddl.js';
import { checkColumnsForStore } from '../store/column-checks.js';
import { exportSpecProblem } from '../exporter/export-query.js';
import { ambiguousHeaderNote, headerRule } from '../importer/probe/csv-header.js';
import { projectId } from '../project/project-id.js';
import { projectRevision } from '../project/revision.js';
import { currentRevisionId, recordRevision } from '../store/revision-records.js';
import type { Lease } from '../lease.js';
import { recordLease } from '../store/lease-records.js';
import { openQueueClient } from '../queue/queue-client.js';
import { takeRunLease, type LeaseSource } from '../queue/run-lease.js';

/** One step push takes (or would take, with --dry-run). */
export interface PushStep {
  datasource: string;
  action: 'create_tables' | 'add_columns' | 'create_quarantine' | 'wait_for_object' | 'unchanged';
  description: string;
  columns?: ColumnDefinition[];
  reference?: ObjectRef;
  /** Without a SCHEMA, CSV: whether the reference object's first row is a header (recorded with the tables). */
  csvHeader?: boolean;
}

export interface PushResult {
  dryRun: boolean;
  steps: PushStep[];
  warnings: string[];
  /** The project revision recorded for the workers (with --dry-run: the one that would be). */
  revision: { id: string; previous?: string; changed: boolean };
}

const RESERVED_COLUMN = /^(_bp_|c__)/;

/**
 * Validates every datasource against the store and its bucket, then applies the plan. Nothing is
 * applied while any datasource has a problem, so a failed push changes nothing.
 */
export async function pushProject(app: App, options: { dryRun: boolean; source?: LeaseSource }): Promise<PushResult> {
  if (options.dryRun) return planAndApply(app, undefined);
  // Two pushes never interleave, and every row push writes is versioned by its lease.
  const queue = options.source ? undefined : await openQueueClient(app, 'push records the project for the workers while holding its lease there');
  try {
    const lease = await takeRunLease(app, options.source ?? queue!, { kind: 'push' }, () => process.stderr.write('note: another push is running; waiting for it to finish.\n'));
    try {
      return await planAndApply(app, lease);
    } finally {
      await lease.release();
    }
  } finally {
    await queue?.close();
  }
}

/** Plans every datasource, then (with a lease to write under) applies the plan. */
async function planAndApply(app: App, lease: Lease | undefined): Promise<PushResult> {
  const dryRun = lease === undefined;
  const store = await app.store();
  const problems: ProjectProblem[] = [];
  const warnings = app.warnings.map(formatProblem);
  const steps: PushStep[] = [];
  for (const spec of app.project.datasources.values()) {
    const planned = await planDatasource(app, spec, problems, warnings);
    steps.push(...planned);
  }
  if (problems.length > 0) {
    const lines = problems.map(formatProblem);
    throw new BucketpipeError('PROJECT_INVALID', `push found ${lines.length} problem${lines.length === 1 ? '' : 's'}; nothing was changed:\n${lines.join('\n')}`);
  }
  // A dry run creates nothing, not even the internal tables: without them nothing was pushed yet.
  if (!dryRun) {
    await ensureInternalTables(store);
    await recordLease(store.client, lease);
  }
  const revision = projectRevision(app.project);
  const project = projectId(app.projectDir, app.env);
  const previous = await currentRevisionId(store.client, project).catch((error: unknown) => {
    if (dryRun) return undefined;
    throw error;
  });
  const recorded = { id: revision.id, previous, changed: revision.id !== previous };
  if (dryRun) return { dryRun: true, steps, warnings, revision: recorded };
  for (const step of steps) {
    const spec = app.datasource(step.datasource);
    if (step.action === 'create_tables') await createDatasourceTables(store, spec, step.columns!, lease, step.reference, step.csvHeader);
    else if (step.action === 'add_columns') await addColumns(store, spec.name, step.columns!);
    else if (step.action === 'create_quarantine') await ensureQuarantineTable(store, spec.name, step.columns!);
  }
  // Last, once the tables are in place: from here the workers' next jobs run this revision.
  if (recorded.changed) await recordRevision(store.client, lease, project, revision, `${hostname()}:${process.pid}`);
  return { dryRun: false, steps, warnings, revision: recorded };
}

async function planDatasource(app: App, spec: DatasourceSpec, problems: ProjectProblem[], warnings: string[]): Promise<PushStep[]> {
  const client = (await app.store()).client;
  const name = spec.name;
  for (const column of spec.schema ?? []) {
    if (RESERVED_COLUMN.test(column.name)) {
      problems.push({ location: column.location, message: `column ${column.name}: names starting with _bp_ or c__ are reserved for bucketpipe; rename the column.` });
    }
  }
  const types = await checkColumnsForStore(await app.store(), spec.schema ?? []);
  problems.push(...types.problems);
  if (spec.import) {
    const problem = await checkBucketAccess(app, spec);
    if (problem) problems.push(problem);
  }
  const exportProblem = spec.export && exportSpecProblem(spec.export, (await app.store()).capabilities);
  if (exportProblem) problems.push({ location: spec.export!.location, message: exportProblem });
  if (spec.export?.testWrite) {
    const problem = await checkExportWritable(app, spec);
    if (problem) problems.push(problem);
  }
  const existing = await readTableColumns(client, name);
  if (!existing) {
    if (spec.schema) {
      return [{ datasource: name, action: 'create_tables', description: `create tables ${name} and ${name}_quarantine (${spec.schema.length} columns)`, columns: spec.schema }];
    }
    if (!spec.import) {
      const message = spec.export
        ? `datasource ${name} exports table ${name}, which does not exist; add a SCHEMA (or IMPORT_* settings) to create it.`
        : `datasource ${name} has neither a SCHEMA nor IMPORT_* settings to infer one from; add a SCHEMA.`;
      problems.push({ location: spec.location, message });
      return [];
    }
    return inferFromReference(app, spec, problems, warnings);
  }
  const steps: PushStep[] = [];
  const quarantineColumns = loadableColumns(existing).map((c) => ({ name: c.name, type: c.type }));
  if (!(await readTableColumns(client, `${name}_quarantine`))) {
    steps.push({ datasource: name, action: 'create_quarantine', description: `create table ${name}_quarantine`, columns: quarantineColumns });
  }
  if (spec.schema) {
    const byName = new Map(existing.map((c) => [c.name, c]));
    const missing: ColumnDefinition[] = [];
    for (const column of spec.schema) {
      const current = byName.get(column.name);
      if (!current) missing.push(column);
      else if (types.canonical.has(column.name) && normalizeType(current.type) !== normalizeType(types.canonical.get(column.name)!)) {
        problems.push({ location: column.location, message: `column ${column.name} is ${current.type} in table ${name} but ${column.type} in the file; push does not change column types (create a new datasource, or change the file back).` });
      }
    }
    const declared = new Set(spec.schema.map((c) => c.name));
    const undeclared = loadableColumns(existing).filter((c) => !declared.has(c.name)).map((c) => c.name);
    if (undeclared.length > 0) warnings.push(`${spec.location.file}: table ${name} has columns the SCHEMA does not declare; they are kept: ${undeclared.join(', ')}`);
    if (missing.length > 0) {
      steps.push({ datasource: name, action: 'add_columns', description: `add columns to ${name}: ${missing.map((c) => `${c.name} ${c.type}`).join(', ')}`, columns: missing });
    }
  }
  if (steps.length === 0) steps.push({ datasource: name, action: 'unchanged', description: `${name}: no changes` });
  return steps;
}

/**
 * Without a SCHEMA the oldest matching object is the reference the columns are inferred from, and
 * the store must be able to hold them: they are checked as declared ones are, before anything is made.
 */
async function inferFromReference(app: App, spec: DatasourceSpec, problems: ProjectProblem[], warnings: string[]): Promise<PushStep[]> {
  const name = spec.name;
  const uri = spec.import!.uri;
  const access = app.bucketAccess(spec.import!.connectionName);
  const matches = keyMatcher(uri);
  let oldest: ObjectRef | undefined;
  try {
    for await (const page of listObjects(access, uri.bucket, uri.listPrefix)) {
      oldest = referenceObject([...(oldest ? [oldest] : []), ...page.filter((object) => matches(object.key))]);
    }
  } catch {
    return []; // checkBucketAccess has reported it
  }
  if (!oldest) {
    return [{ datasource: name, action: 'wait_for_object', description: `${name}: no object matches ${spec.import!.bucketUri} yet; the tables are created from the first object a sync imports` }];
  }
  const where = objectUri(oldest.bucket, oldest.key);
  try {
    const ctx = await app.importContext(name);
    const { layout, columns } = await inferObjectColumns(ctx, oldest, { csvHeader: headerRule(spec) });
    if (columns.length === 0) throw new Error('it has no columns');
    const reserved = columns.filter((c) => RESERVED_COLUMN.test(c.name));
    if (reserved.length > 0) throw new Error(`its columns ${reserved.map((c) => c.name).join(', ')} use a reserved prefix (_bp_, c__)`);
    const checked = await checkColumnsForStore(ctx.store, columns.map((c) => ({ ...c, location: spec.import!.location })), where);
    if (checked.problems.length > 0) {
      problems.push(...checked.problems);
      return [];
    }
    const location = spec.import!.location;
    if (layout.ambiguousHeader) warnings.push(formatProblem({ location, message: ambiguousHeaderNote(where, layout.ambiguousHeader, name) }));
    return [{
      datasource: name,
      action: 'create_tables',
      description: `create tables ${name} and ${name}_quarantine with ${columns.length} columns inferred from ${where}: ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
      columns,
      reference: oldest,
      ...(layout.csv ? { csvHeader: layout.csv.hasHeader } : {}),
    }];
  } catch (error) {
    problems.push({ location: spec.import!.location, message: `cannot infer the schema of ${name} from ${where}: ${toErrorReport(error).message}. Add a SCHEMA, or fix the object.` });
    return [];
  }
}

async function checkBucketAccess(app: App, spec: DatasourceSpec): Promise<ProjectProblem | undefined> {
  const uri = spec.import!.uri;
  const access = app.bucketAccess(spec.import!.connectionName);
  try {
    await access.client.send(new ListObjectsV2Command({ Bucket: uri.bucket, Prefix: uri.listPrefix || undefined, MaxKeys: 1 }));
    return undefined;
  } catch (error) {
    const explained = error instanceof BucketpipeError ? error : explainS3Error(error, { bucket: uri.bucket, connection: access.connection.name });
    return { location: spec.import!.location, message: explained.message };
  }
}

/** Writes and removes a test object under the export prefix, unless EXPORT_TEST_WRITE false. */
async function checkExportWritable(app: App, spec: DatasourceSpec): Promise<ProjectProblem | undefined> {
  const exp = spec.export!;
  const { bucket, prefix } = exp.destination;
  try {
    await checkWritable(app.bucketAccess(exp.connectionName), bucket, prefix, {
      contentType: 'text/plain',
      sse: exp.sse as ServerSideEncryption | undefined,
      sseKmsKeyId: exp.sseKmsKeyId,
      acl: exp.acl as ObjectCannedACL | undefined,
    });
    return undefined;
  } catch (error) {
    return { location: exp.location, message: `${toErrorReport(error).message} (push writes and removes a test object under EXPORT_BUCKET_URI; EXPORT_TEST_WRITE false skips it)` };
  }
}

function normalizeType(type: string): string {
  return type.replace(/\s+/g, '').replace(/"/g, "'");
}
