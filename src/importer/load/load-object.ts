import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { objectUri } from '../../bucket/bucket-uri.js';
import { runStatement, selectRows, type QuerySettings } from '../../store/queries.js';
import { identifierList, quoteIdentifier, quoteString } from '../../store/sql.js';
import type { LocalEngine } from '../../store/local-engine.js';
import type { TargetColumn } from './cast-expressions.js';
import type { ImportContext } from '../import-context.js';
import { malformedRowsToFile, quarantineMalformedRows } from './malformed-rows.js';
import { clearRowCounts, countsBySource, intakeColumnList, intakeTableName, sourcesEndingMultiline, type SplitCounts, type SplitTargets } from './split-views.js';
import { assertQuotesClosed } from './unclosed-quote.js';
import { withEngineErrors, type ObjectLayout } from '../probe/probe-object.js';
import { directInsert, LONE_CARRIAGE_RETURN, readQuery, withParamSuffix, type ReadQuery } from './raw-read.js';
import { typedCsvInsert } from './typed-csv-insert.js';
import { checkedInsert } from './checked-insert.js';
import { redact, sourceSecrets } from '../engine-source.js';
import { IMPORT_TAG_COLUMN, quarantineTableName } from '../../store/table-names.js';
import { countWrittenRows, markWrites } from './written-rows.js';
import { deleteTaggedRows, ROW_INSERT_SETTINGS, taggedInsertBinding, undoImport } from '../commit.js';
import { assertBatchAccountedFor, type ObjectFigures } from '../accounting.js';

/** What a load did with one object: its records, and where each went (commit checks that they add up). */
export type LoadResult = ObjectFigures;

/**
 * Settings of every load. Rows per inserted block: the split holds each block as text and as typed
 * values at once; blocks smaller than the engine's default keep the peak memory of a load low
 * whatever the object's size.
 */
const LOAD_SETTINGS: QuerySettings = {
  min_insert_block_size_rows: 131_072,
  min_insert_block_size_bytes: 32 * 1024 * 1024,
  // The Parquet reader prefetches row groups up to this much memory (the engine allows 4 GiB), so
  // a reader faster than the insert would hold most of a large file at once. At 16 MiB rather than
  // 64, a 3,000,000-row object peaks 5% lower, at the same speed.
  input_format_parquet_memory_high_watermark: 16 * 1024 * 1024,
  // The split's views (fit, reject, count) and the table's insert run side by side, not one after the
  // other in the inserting thread: a quarter off a large CSV load, a third off NDJSON.
  parallel_view_processing: 1,
  ...ROW_INSERT_SETTINGS,
};

/**
 * Loads objects of one layout through the split pipeline, in one statement, all under one import id.
 * Rows written to the data table carry the import id in the hidden tag column, so an interrupted load
 * can be undone exactly. Results are per object, in order.
 */
export async function loadObjects(
  ctx: ImportContext,
  layouts: readonly ObjectLayout[],
  columns: readonly TargetColumn[],
  importId: string,
  prepareSplit: () => Promise<void>,
): Promise<LoadResult[]> {
  try {
    return await loadAsProbed(ctx, layouts, columns, importId, prepareSplit);
  } catch (error) {
    // An NDJSON read met a lone \r its head did not show: what it wrote goes, and the objects are read
    // again with lone \r as line ends too (that read has no such stop).
    if (!(error instanceof Error && error.message.includes(LONE_CARRIAGE_RETURN)) || ctx.signal?.aborted) throw error;
    ctx.log.debug({ stage: 'lone_carriage_return', objects: layouts.map(uriOf), importId }, 'stage');
    if (!ctx.staging) await undoImport(ctx.store, ctx.datasource.name, importId);
    const again = layouts.map((l) => (l.format === 'ndjson' && !l.jsonArray ? { ...l, loneCarriageReturns: true } : l));
    return loadAsProbed(ctx, again, columns, importId, prepareSplit);
  }
}

async function loadAsProbed(
  ctx: ImportContext,
  layouts: readonly ObjectLayout[],
  columns: readonly TargetColumn[],
  importId: string,
  prepareSplit: () => Promise<void>,
): Promise<LoadResult[]> {
  const readable = layouts.filter((l) => !(l.empty || (l.format !== 'ndjson' && l.columns.length === 0)));
  const loaded = readable.length === 0 ? new Map<string, LoadResult>()
    : ctx.staging ? await loadThroughStage(ctx, ctx.staging, readable, columns, importId, prepareSplit) : await loadInPlace(ctx, readable, columns, importId, prepareSplit);
  return layouts.map((l) => loaded.get(uriOf(l)) ?? { records: 0, headerLines: 0, rows: 0, quarantined: 0 });
}

export async function loadObject(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string, prepareSplit: () => Promise<void>): Promise<LoadResult> {
  return (await loadObjects(ctx, [layout], columns, importId, prepareSplit))[0]!;
}

/** The header line a CSV object was decided to have, as a record read. */
function headerLinesOf(layout: ObjectLayout): number {
  return layout.format === 'csv' && layout.csv?.hasHeader && !layout.empty ? 1 : 0;
}

/**
 * A direct read stores every record it reads, or stops at the first it cannot (and the split loads
 * the object instead): what it stored, counted in the table, is what it read.
 */
function directFigures(layout: ObjectLayout, stored: number): Map<string, LoadResult> {
  const headerLines = headerLinesOf(layout);
  return new Map([[uriOf(layout), { records: stored + headerLines, headerLines, rows: stored, quarantined: 0 }]]);
}

/**
 * The figures of a split: records as they entered it (and the malformed ones the parser set aside),
 * rows and quarantined rows as counted in the tables they went to. A lone object's rows are the
 * table's count of its import; a batch's are the split's counts, which must add up to the table's.
 */
function splitFigures(
  layouts: readonly ObjectLayout[],
  counts: ReadonlyMap<string, SplitCounts>,
  malformed: ReadonlyMap<string, number>,
  quarantined: ReadonlyMap<string, number>,
  stored: number,
): Map<string, LoadResult> {
  const uris = layouts.map(uriOf);
  if (layouts.length > 1) assertBatchAccountedFor(uris, uris.reduce((sum, uri) => sum + (counts.get(uri)?.rows ?? 0), 0), stored);
  return new Map(
    layouts.map((layout, i) => {
      const uri = uris[i]!;
      const headerLines = headerLinesOf(layout);
      return [uri, {
        records: (counts.get(uri)?.records ?? 0) + (malformed.get(uri) ?? 0) + headerLines,
        headerLines,
        rows: layouts.length === 1 ? stored : (counts.get(uri)?.rows ?? 0),
        quarantined: quarantined.get(uri) ?? 0,
      }];
    }),
  );
}

function uriOf(layout: ObjectLayout): string {
  return objectUri(layout.object.bucket, layout.object.key);
}

/** Embedded store: the split writes straight into the datasource's tables, tagged while it runs. */
async function loadInPlace(
  ctx: ImportContext,
  layouts: readonly ObjectLayout[],
  columns: readonly TargetColumn[],
  importId: string,
  prepareSplit: () => Promise<void>,
): Promise<Map<string, LoadResult>> {
  const table = ctx.datasource.name;
  if (layouts.length === 1) {
    const layout = layouts[0]!;
    const lossless = directInsert(layout, columns);
    if (lossless) return insertDirectly(ctx, layout, lossless, importId);
    const loaded = await tryDirectRead(ctx, layout, columns, importId);
    if (loaded) return loaded;
  }
  await prepareSplit();
  const mark = await markWrites(ctx.store.client, table);
  const malformed = await split(ctx, layouts, columns, importId, { data: table, quarantine: quarantineTableName(table), tagSource: true });
  await assertQuotesClosed(ctx, layouts, await sourcesEndingMultiline(ctx.engine, table));
  const counts = await countsBySource(ctx.engine, table);
  const quarantined = await quarantinedBySource(ctx.store.client, quarantineTableName(table), importId);
  const stored = await countWrittenRows(ctx.store.client, table, importId, mark);
  return splitFigures(layouts, counts, malformed, quarantined, stored);
}

/** One object inserted by a single statement, its rows counted from the parts it wrote. */
async function insertDirectly(ctx: ImportContext, layout: ObjectLayout, read: ReadQuery, importId: string): Promise<Map<string, LoadResult>> {
  const client = ctx.store.client;
  const table = ctx.datasource.name;
  const mark = await markWrites(client, table);
  await withEngineErrors(ctx, layout.object, layout.source, () => insertTagged(ctx, read, importId));
  return directFigures(layout, await countWrittenRows(client, table, importId, mark));
}

/**
 * One object read straight into the data table, the engine's typed reader for CSV where its column
 * types allow, else the split's own casts: undefined when it stopped (a row the split would
 * quarantine, or that the typed reader cannot parse), after removing the rows it wrote, so that the
 * split loads the whole object. Most objects have no such row, and skip the split's views.
 */
async function tryDirectRead(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string): Promise<Map<string, LoadResult> | undefined> {
  const client = ctx.store.client;
  const table = ctx.datasource.name;
  const typed = typedCsvInsert(ctx, layout, columns);
  const read = typed ?? checkedInsert(namedRead(ctx, layout, columns, importId), columns, layout.format, layout.csv?.lineEnd);
  const via = typed ? 'typed' : 'checked';
  const mark = await markWrites(client, table);
  try {
    await insertTagged(ctx, read, importId);
  } catch (error) {
    // Whatever stopped it (a row for the split, or a failed read the split will meet and report
    // again), the split starts over: blocks written before the stop are removed first.
    ctx.log.debug({ stage: 'direct_read', via, object: uriOf(layout), outcome: 'stopped', reason: redact(firstLine(error), sourceSecrets(layout.source)) }, 'stage');
    // A run that lost its lease stops here: what it wrote is removed by the attempt's own undo.
    if (ctx.signal?.aborted) throw error;
    if ((await countWrittenRows(client, table, importId, mark)) > 0) await deleteTaggedRows(ctx.store, table, importId);
    return undefined;
  }
  const rows = await countWrittenRows(client, table, importId, mark);
  ctx.log.debug({ stage: 'direct_read', via, object: uriOf(layout), outcome: 'loaded', rows }, 'stage');
  return directFigures(layout, rows);
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

/** The read of one object, with the import id and source URI it tags its rows with. */
function namedRead(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string): ReadQuery {
  const read = readQuery(ctx, layout, columns);
  return { ...read, params: { ...read.params, bp_import_id: importId, bp_source: uriOf(layout) } };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 300);
}

/**
 * A ClickHouse server as the store: the worker's engine splits the objects into local staging tables,
 * then the typed rows stream to the server (TabSeparated, which every server version reads), each
 * data row with its import id.
 */
async function loadThroughStage(
  ctx: ImportContext,
  staging: LocalEngine,
  layouts: readonly ObjectLayout[],
  columns: readonly TargetColumn[],
  importId: string,
  prepareSplit: () => Promise<void>,
): Promise<Map<string, LoadResult>> {
  const table = ctx.datasource.name;
  const targets = stagingTargets(table);
  await prepareSplit();
  await runStatement(staging.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(targets.data)}`);
  await runStatement(staging.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(targets.quarantine)}`);
  const malformed = await split(ctx, layouts, columns, importId, targets);
  await assertQuotesClosed(ctx, layouts, await sourcesEndingMultiline(staging.client, table));
  const counts = await countsBySource(staging.client, table);
  const staged = await quarantinedBySource(staging.client, targets.quarantine, importId);
  const server = ctx.store.client;
  const mark = await markWrites(server, table);
  const ship = async (from: string, to: string, names: readonly string[], tag?: string) => {
    const list = identifierList(names);
    // The import id travels with each data row (no ALTER per object on the server, or its cluster).
    const target = tag === undefined ? list : `${list}, ${quoteIdentifier(IMPORT_TAG_COLUMN)}`;
    const shipped = await ctx.store.client.exec({
      query: `INSERT INTO ${quoteIdentifier(to)} (${target}) FORMAT TabSeparated`,
      values: staging.stream(`SELECT ${list}${tag === undefined ? '' : `, ${quoteString(tag)}`} FROM ${quoteIdentifier(from)}`, 'TabSeparated'),
      clickhouse_settings: { ...ROW_INSERT_SETTINGS, ...(tag === undefined ? {} : { insert_allow_materialized_columns: 1 }) } as Record<string, number>,
      abort_signal: ctx.signal,
    });
    shipped.stream.resume();
  };
  if ([...counts.values()].some((c) => c.rows > 0)) await ship(targets.data, table, columns.map((c) => c.name), importId);
  if ([...staged.values()].some((n) => n > 0)) {
    await ship(targets.quarantine, quarantineTableName(table), [...columns.map((c) => c.name), ...QUARANTINE_FIELDS]);
  }
  // What the server's tables hold of this import, not what was staged: the rows must have arrived.
  const quarantined = await quarantinedBySource(server, quarantineTableName(table), importId);
  return splitFigures(layouts, counts, malformed, quarantined, await countWrittenRows(server, table, importId, mark));
}

/** The quarantine columns besides the data columns' text (insertion_date takes its default). */
const QUARANTINE_FIELDS = ['c__error_column', 'c__error', 'c__import_id', 'c__source', 'c__row', 'c__raw'];

/** Local staging tables of a datasource in the worker's engine. */
export function stagingTargets(datasource: string): SplitTargets {
  return { data: `_bp_stage_${datasource}`, quarantine: `_bp_stage_${datasource}_quarantine` };
}

/**
 * Reads the objects once and writes their rows into `targets` through the split. Several objects are
 * read by one statement, each with its own source name. Returns the rows the parser set aside as
 * malformed, by source.
 */
async function split(
  ctx: ImportContext,
  layouts: readonly ObjectLayout[],
  columns: readonly TargetColumn[],
  importId: string,
  targets: SplitTargets,
): Promise<Map<string, number>> {
  const engine = ctx.engine;
  const table = ctx.datasource.name;
  const first = layouts[0]!;
  const errorsFile = join(ctx.store.scratchDir, `${importId}.rejected.csv`);
  rmSync(errorsFile, { force: true });
  const reads = layouts.map((layout, i) => (layouts.length === 1 ? namedRead(ctx, layout, columns, importId) : withParamSuffix(namedRead(ctx, layout, columns, importId), `_${i}`)));
  try {
    await withEngineErrors(ctx, first.object, first.source, async () => {
      await clearRowCounts(engine, table);
      await runStatement(
        engine,
        `INSERT INTO ${quoteIdentifier(intakeTableName(table))} (${intakeColumnList(columns)}) ${reads.map((r) => r.sql).join(' UNION ALL ')}`,
        Object.assign({}, ...reads.map((r) => r.params)) as Record<string, string>,
        // Rows the parser cannot split are set aside only for a lone object: the record of them names no
        // object, so in a batch the first one fails the statement and the objects are loaded one by one.
        { ...reads[0]!.settings, ...(first.format === 'csv' && layouts.length === 1 ? malformedRowsToFile(errorsFile) : {}), ...LOAD_SETTINGS },
        ctx.signal,
      );
    });
    // Set aside only for a lone object (see above), so they are all its own.
    if (!existsSync(errorsFile) || statSync(errorsFile).size === 0) return new Map();
    const set = await quarantineMalformedRows(engine, targets.quarantine, errorsFile, { importId, source: uriOf(first), headerRows: first.csv?.hasHeader ? 1 : 0 });
    return new Map([[uriOf(first), set]]);
  } finally {
    rmSync(errorsFile, { force: true });
  }
}

/** Rows an import put in a quarantine table, by source URI. */
async function quarantinedBySource(client: ClickHouseClient, quarantineTable: string, importId: string): Promise<Map<string, number>> {
  const rows = await selectRows<{ source: string; n: string | number }>(
    client,
    `SELECT c__source AS source, count() AS n FROM ${quoteIdentifier(quarantineTable)} WHERE c__import_id = {id:String} GROUP BY c__source`,
    { id: importId },
  );
  return new Map(rows.map((r) => [r.source, Number(r.n)]));
}
