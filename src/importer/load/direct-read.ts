import { runStatement } from '../../store/queries.js';
import { sendToServer } from '../../store/server-rows.js';
import { quoteIdentifier } from '../../store/sql.js';
import type { ImportContext } from '../import-context.js';
import { withEngineErrors, type ObjectLayout } from '../probe/probe-object.js';
import { redact, sourceSecrets } from '../engine-source.js';
import { removeStoppedRead, taggedInsertBinding } from '../commit.js';
import type { TargetColumn } from './cast-expressions.js';
import { checkedInsert } from './checked-insert.js';
import { headerLinesOf, layoutUri, type LoadResult } from './load-result.js';
import { LOAD_SETTINGS } from './load-settings.js';
import { losslessParquetInsert, timeCheckedParquetInsert } from './lossless-parquet-insert.js';
import { namedRead, type DirectRead, type ReadQuery } from './raw-read.js';
import type { StagedTarget } from '../load-target.js';
import { typedCsvInsert } from './typed-csv-insert.js';
import { countWrittenRows, markWrites } from './written-rows.js';

/**
 * The direct read of one object into the store's data table, without the split's views: a Parquet
 * object whose types convert losslessly is inserted as it is (a failure is the object's); any other
 * object is read with checks that stop the statement at the first row the split would quarantine.
 * Undefined when it stopped, with what it wrote removed, so that the split loads the whole object.
 * With a server as the store, the worker's engine runs the same read and its rows stream straight
 * into the server's table (`sendTagged`); the rows are counted in the store's table either way.
 */
export async function readDirectly(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string): Promise<Map<string, LoadResult> | undefined> {
  const limits = ctx.target.split;
  const lossless = losslessParquetInsert(layout, columns, limits);
  const typed = lossless ? undefined : (typedCsvInsert(ctx, layout, columns, limits) ?? timeCheckedParquetInsert(layout, columns, limits));
  const read = lossless ?? typed ?? checkedInsert(namedRead(ctx, layout, columns, importId), columns, layout.format, layout.csv?.lineEnd, limits);
  const via = lossless ? 'lossless' : typed ? 'typed' : 'checked';
  const target = ctx.target;
  const write = () => (target.kind === 'staged' ? sendTagged(ctx, target, read, importId) : insertTagged(ctx, read, importId));
  const client = ctx.store.client;
  const table = ctx.datasource.name;
  const mark = await markWrites(client, table);
  if (lossless) {
    await withEngineErrors(ctx, layout.object, layout.source, write);
  } else {
    try {
      await write();
    } catch (error) {
      // Whatever stopped it (a row for the split, or a failed read the split will meet and report
      // again), the split starts over: blocks written before the stop are removed first.
      ctx.log.debug({ stage: 'direct_read', via, object: layoutUri(layout), outcome: 'stopped', reason: redact(firstLine(error), sourceSecrets(layout.source)) }, 'stage');
      // A run that lost its lease stops here: what it wrote is removed by the attempt's own undo.
      if (ctx.signal?.aborted) throw error;
      if ((await countWrittenRows(client, table, importId, mark)) > 0) await removeStoppedRead(ctx.store, table, importId);
      return undefined;
    }
  }
  const rows = await countWrittenRows(client, table, importId, mark);
  ctx.log.debug({ stage: 'direct_read', via, object: layoutUri(layout), outcome: 'loaded', rows }, 'stage');
  return directFigures(layout, rows);
}

/** A direct read's rows, tagged, from the worker's engine into the server's data table. */
async function sendTagged(ctx: ImportContext, target: StagedTarget, read: DirectRead, importId: string): Promise<void> {
  const tag = taggedInsertBinding(importId);
  await sendToServer(
    ctx.store,
    target.stage,
    { sql: read.select.sql, params: { ...read.params, ...tag.params }, settings: { ...read.settings, ...LOAD_SETTINGS } },
    { to: ctx.datasource.name, columns: read.select.columns, settings: tag.settings, signal: ctx.signal },
  );
}

/**
 * A direct read stores every record it reads, or stops at the first it cannot (and the split loads
 * the object instead): what it stored, counted in the table, is what it read.
 */
function directFigures(layout: ObjectLayout, stored: number): Map<string, LoadResult> {
  const headerLines = headerLinesOf(layout);
  return new Map([[layoutUri(layout), { records: stored + headerLines, headerLines, rows: stored, quarantined: 0 }]]);
}

/**
 * A direct read's INSERT into the data table, its rows tagged with the import id as they are written.
 * Two threads sort and write its blocks, so that writing keeps up with the reader: a 1,000,000-row
 * Parquet object loads in about 0.8 of the time. Their blocks are half the split's, so that the two
 * hold about what one did. (The split's views hold more per block; it keeps one thread.)
 */
async function insertTagged(ctx: ImportContext, read: ReadQuery, importId: string): Promise<void> {
  const tag = taggedInsertBinding(importId);
  const settings = { ...read.settings, ...tag.settings, ...LOAD_SETTINGS, max_insert_threads: 2, min_insert_block_size_rows: 65_536 };
  await runStatement(ctx.engine, `INSERT INTO ${quoteIdentifier(ctx.datasource.name)} ${read.sql}`, { ...read.params, ...tag.params }, settings, ctx.signal);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 300);
}
