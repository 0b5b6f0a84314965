import { objectUri } from '../bucket/bucket-uri.js';
import type { ObjectRef } from '../bucket/list-objects.js';
import { toErrorReport } from '../errors.js';
import { describeFigures } from './accounting.js';
import { abandon, claim, commit, newAttempt, type AttemptContext } from './commit.js';
import type { ImportContext } from './import-context.js';
import { importOne, type ObjectOutcome } from './import-object.js';
import type { Event } from './import-run.js';
import type { TargetColumn } from './load/cast-expressions.js';
import { loadObjects } from './load/load-object.js';
import type { EnsureSplit } from './load/split-lifecycle.js';
import type { HeaderRule } from './probe/csv-header.js';
import { mapObjectColumns, unmappedColumns } from './probe/map-columns.js';
import { probeObject, type ObjectLayout } from './probe/probe-object.js';
import { ignoresEmptyKey } from './schema/evolve-schema.js';

/** Objects at most this big are loaded together with their neighbours of the same layout. */
const SMALL_OBJECT_BYTES = 8 * 1024 * 1024;
const BATCH_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The small objects from `from` on that one statement can load together: same layout, columns the
 * table has, nothing to infer. Per-object costs (claims, tags, counts) then fall on the batch.
 */
export async function gatherBatch(
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
export async function importBatch(
  ctx: ImportContext,
  protocol: AttemptContext,
  layouts: readonly ObjectLayout[],
  jobId: string,
  columns: TargetColumn[],
  header: HeaderRule,
  event: Event,
  ensureSplit: EnsureSplit,
): Promise<ObjectOutcome[]> {
  const attempt = newAttempt(protocol, jobId, layouts.map((l) => l.object));
  const importId = attempt.importId;
  const uris = layouts.map((l) => objectUri(l.object.bucket, l.object.key));
  const stage = (name: string) => uris.forEach((uri) => ctx.log.debug({ stage: name, object: uri, importId }, 'stage'));
  try {
    await claim(protocol, attempt);
    stage('claimed');
    stage('loading');
    const results = await loadObjects(ctx, { layouts, columns, importId, prepareSplit: () => ensureSplit(columns) });
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
    const outcomes: ObjectOutcome[] = [];
    for (const layout of layouts) {
      const outcome = await importOne(ctx, protocol, layout.object, jobId, columns, header, event, ensureSplit, layout);
      columns = outcome.columns;
      outcomes.push(outcome);
    }
    return outcomes;
  }
}
