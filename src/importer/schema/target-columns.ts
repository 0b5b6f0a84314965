import { objectUri } from '../../bucket/bucket-uri.js';
import type { ObjectRef } from '../../bucket/list-objects.js';
import { BucketpipeError } from '../../errors.js';
import type { Lease } from '../../lease.js';
import { checkColumnsForStore } from '../../store/column-checks.js';
import { ensureTagSource, loadableColumns, readTableColumns, type ColumnDefinition } from '../../store/table-ddl.js';
import type { ImportContext } from '../import-context.js';
import type { Event } from '../import-run.js';
import type { TargetColumn } from '../load/cast-expressions.js';
import { ambiguousHeaderNote, headerRule, type HeaderRule } from '../probe/csv-header.js';
import { inferTableColumns } from './inferred-columns.js';
import { probeObject } from '../probe/probe-object.js';
import { createDatasourceTables, datasourceRecord } from './datasource-tables.js';

/**
 * The columns rows are loaded into; creates the tables first when they do not exist yet, from the
 * SCHEMA or, without one, from the columns inferred from the reference object.
 */
export async function targetColumns(ctx: ImportContext, lease: Lease, reference: ObjectRef | undefined, event: Event): Promise<TargetColumn[] | undefined> {
  const client = ctx.store.client;
  const existing = await readTableColumns(client, ctx.datasource.name);
  if (existing) {
    if (ctx.store.capabilities.ephemeralColumns) await ensureTagSource(ctx.store, ctx.datasource.name, existing);
    return loadableColumns(existing);
  }
  if (ctx.datasource.schema) {
    await createDatasourceTables(ctx.store, ctx.datasource, ctx.datasource.schema, lease);
  } else {
    if (!reference) return undefined;
    const layout = await probeObject(ctx, reference, { csvHeader: headerRule(ctx.datasource) });
    const where = objectUri(reference.bucket, reference.key);
    if (layout.columns.length === 0) {
      throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', `datasource ${ctx.datasource.name}: cannot infer a schema from ${where} (it has no columns); add a SCHEMA to ${ctx.datasource.location.file}.`, { context: { datasource: ctx.datasource.name } });
    }
    if (layout.ambiguousHeader) event(where, 'warn', 'csv_header_ambiguous', `${ctx.datasource.import.location.file}:${ctx.datasource.import.location.line}: ${ambiguousHeaderNote(where, layout.ambiguousHeader, ctx.datasource.name)}`);
    const inferred = await inferTableColumns(ctx, layout);
    await assertStorable(ctx, inferred, where);
    // The reference object's decision is recorded with the tables: every later object is read the same way.
    await createDatasourceTables(ctx.store, ctx.datasource, inferred, lease, reference, layout.csv?.hasHeader);
  }
  return loadableColumns((await readTableColumns(client, ctx.datasource.name))!);
}

/** Inferred columns the store cannot hold fail here, each named, rather than with the store's raw error. */
export async function assertStorable(ctx: ImportContext, columns: readonly ColumnDefinition[], inferredFrom: string): Promise<void> {
  const location = ctx.datasource.import.location;
  const { problems } = await checkColumnsForStore(ctx.store, columns.map((c) => ({ ...c, location })), inferredFrom);
  if (problems.length === 0) return;
  throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', problems.map((p) => `${p.location.file}:${p.location.line}: ${p.message}`).join('\n'), {
    context: { datasource: ctx.datasource.name, file: location.file, line: location.line },
  });
}

/** How the first rows of this run's CSV objects are read: the datasource's one decision. */
export async function csvHeaderRule(ctx: ImportContext, columns: readonly TargetColumn[]): Promise<HeaderRule> {
  const names = columns.map((c) => c.name);
  const spec = ctx.datasource;
  if (spec.import.csvHeader !== undefined || spec.schema) return headerRule(spec, { columns: names });
  return headerRule(spec, { columns: names, csvHeader: (await datasourceRecord(ctx.store.client, spec.name)).csvHeader });
}
