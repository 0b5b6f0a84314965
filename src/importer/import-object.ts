import { objectUri } from '../bucket/bucket-uri.js';
import type { ObjectRef } from '../bucket/list-objects.js';
import { toErrorReport } from '../errors.js';
import { describeFigures } from './accounting.js';
import { abandon, claim, commit, newAttempt, type AttemptContext } from './commit.js';
import type { ImportContext } from './import-context.js';
import type { ObjectReport } from './import-report.js';
import type { Event } from './import-run.js';
import type { TargetColumn } from './load/cast-expressions.js';
import { loadObject } from './load/load-object.js';
import type { EnsureSplit } from './load/split-lifecycle.js';
import type { HeaderRule } from './probe/csv-header.js';
import { probeObject, type ObjectLayout } from './probe/probe-object.js';
import { evolveSchema } from './schema/evolve-schema.js';

/** What importing an object did, and the table's columns after it (an object may add some). */
export interface ObjectOutcome {
  report: ObjectReport;
  columns: TargetColumn[];
}

/**
 * Imports one object as an attempt of its own: claim → probe → evolve the schema → load → commit.
 * A failure is the object's alone: its attempt is abandoned (its rows removed) and reported.
 */
export async function importOne(
  ctx: ImportContext,
  protocol: AttemptContext,
  object: ObjectRef,
  jobId: string,
  columns: TargetColumn[],
  header: HeaderRule,
  event: Event,
  ensureSplit: EnsureSplit,
  probed?: ObjectLayout,
): Promise<ObjectOutcome> {
  const spec = ctx.datasource;
  const uri = objectUri(object.bucket, object.key);
  const attempt = newAttempt(protocol, jobId, [object]);
  const importId = attempt.importId;
  const report: ObjectReport = { uri, etag: object.etag, status: 'imported', rows: 0, quarantined: 0, records: 0, headerLines: 0, bytes: object.size, addedColumns: [] };
  try {
    await claim(protocol, attempt);
    ctx.log.debug({ stage: 'claimed', object: uri, importId }, 'stage');
    const layout = probed ?? (await probeObject(ctx, object, { describeJson: !spec.schema, knownColumns: columns.map((c) => c.name), csvHeader: header }));
    const evolution = await evolveSchema(ctx, layout, columns, uri, event);
    columns = evolution.columns;
    report.addedColumns = evolution.added;
    ctx.log.debug({ stage: 'loading', object: uri, importId }, 'stage');
    const result = await loadObject(ctx, { layouts: [layout], columns, importId, prepareSplit: () => ensureSplit(columns) });
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
