import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement, selectRows, type QuerySettings } from '../../store/queries.js';
import { shipToServer } from '../../store/server-rows.js';
import { quoteIdentifier } from '../../store/sql.js';
import { IMPORT_TAG_COLUMN, quarantineTableName } from '../../store/table-names.js';
import { assertBatchAccountedFor } from '../accounting.js';
import { ROW_INSERT_SETTINGS } from '../commit.js';
import type { ImportContext } from '../import-context.js';
import { withEngineErrors, type ObjectLayout } from '../probe/probe-object.js';
import type { LoadRequest } from './load-request.js';
import { headerLinesOf, layoutUri, type LoadResult } from './load-result.js';
import { LOAD_SETTINGS } from './load-settings.js';
import type { InStoreTarget, StagedTarget } from '../load-target.js';
import { malformedRowsToFile, quarantineMalformedRows } from './malformed-rows.js';
import { namedRead, withParamSuffix } from './raw-read.js';
import { clearRowCounts, countsBySource, intakeColumnList, intakeTableName, sourcesEndingMultiline, type SplitCounts } from './split-views.js';
import { assertQuotesClosed } from './unclosed-quote.js';
import { countTaggedRowsOnEveryShard, countWrittenRows, markWrites } from './written-rows.js';

/**
 * The split loads every row: the rows that fit go to the data table, the others, with their reasons,
 * to the quarantine table. Here the store splits them itself, straight into the datasource's tables,
 * tagged while it runs.
 */
export async function splitInStore(ctx: ImportContext, target: InStoreTarget, request: LoadRequest): Promise<Map<string, LoadResult>> {
  const { layouts, importId } = request;
  const table = ctx.datasource.name;
  await request.prepareSplit();
  const mark = await markWrites(ctx.store.client, table);
  const malformed = await split(ctx, request, target.split.quarantine);
  await assertQuotesClosed(ctx, layouts, await sourcesEndingMultiline(ctx.engine, table));
  const counts = await countsBySource(ctx.engine, table);
  const quarantined = await quarantinedBySource(ctx.store.client, target.split.quarantine, importId);
  const stored = await countWrittenRows(ctx.store.client, table, importId, mark);
  return splitFigures(layouts, counts, malformed, quarantined, stored);
}

/**
 * The split with a ClickHouse server as the store: the worker's engine splits the objects into local
 * staging tables, then the typed rows stream to the server in its row format (Native where it has it,
 * see `ServerCapabilities.rowFormat`), each data row with its import id, in one INSERT per table.
 */
export async function splitThroughStage(ctx: ImportContext, target: StagedTarget, request: LoadRequest): Promise<Map<string, LoadResult>> {
  const { layouts, columns, importId } = request;
  const table = ctx.datasource.name;
  const { stage, split: staged } = target;
  await request.prepareSplit();
  await runStatement(stage.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(staged.data)}`);
  await runStatement(stage.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(staged.quarantine)}`);
  const malformed = await split(ctx, request, staged.quarantine);
  await assertQuotesClosed(ctx, layouts, await sourcesEndingMultiline(stage.client, table));
  const counts = await countsBySource(stage.client, table);
  const stagedQuarantine = await quarantinedBySource(stage.client, staged.quarantine, importId);
  const server = ctx.store.client;
  const writes = target.overShards ? SHARDED_WRITES : undefined;
  const mark = writes ? undefined : await markWrites(server, table);
  const ship = (from: string, to: string, columns: readonly string[], tag?: string) =>
    shipToServer(ctx.store, stage, {
      from,
      to,
      columns,
      // The import id travels with each data row (no ALTER per object on the server, or its cluster).
      constant: tag === undefined ? undefined : { column: IMPORT_TAG_COLUMN, value: tag },
      settings: { ...ROW_INSERT_SETTINGS, ...(tag === undefined ? {} : { insert_allow_materialized_columns: 1, ...writes }) },
      signal: ctx.signal,
    });
  if ([...counts.values()].some((c) => c.rows > 0)) await ship(staged.data, table, columns.map((c) => c.name), importId);
  if ([...stagedQuarantine.values()].some((n) => n > 0)) {
    await ship(staged.quarantine, quarantineTableName(table), [...columns.map((c) => c.name), ...QUARANTINE_FIELDS]);
  }
  // What the server's tables hold of this import, not what was staged: the rows must have arrived.
  const quarantined = await quarantinedBySource(server, quarantineTableName(table), importId);
  const written = mark ? await countWrittenRows(server, table, importId, mark) : await countTaggedRowsOnEveryShard(server, table, importId, SHARDED_WRITES);
  return splitFigures(layouts, counts, malformed, quarantined, written);
}

/**
 * A Distributed insert that returns once every shard holds its rows, and a count read from the same
 * replicas it wrote to (the first of each shard in the cluster's order), not from one still fetching.
 */
const SHARDED_WRITES: QuerySettings = { insert_distributed_sync: 1, load_balancing: 'in_order' };

/** The quarantine columns besides the data columns' text (insertion_date takes its default). */
const QUARANTINE_FIELDS = ['c__error_column', 'c__error', 'c__import_id', 'c__source', 'c__row', 'c__raw'];

/**
 * Reads the objects once and writes their rows through the split, whose views lead to the target
 * tables. Several objects are read by one statement, each with its own source name. Returns the rows
 * the parser set aside as malformed, by source; those go to `quarantineTable` here.
 */
async function split(ctx: ImportContext, request: LoadRequest, quarantineTable: string): Promise<Map<string, number>> {
  const { layouts, columns, importId } = request;
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
    const set = await quarantineMalformedRows(engine, quarantineTable, errorsFile, { importId, source: layoutUri(first), headerRows: first.csv?.hasHeader ? 1 : 0 });
    return new Map([[layoutUri(first), set]]);
  } finally {
    rmSync(errorsFile, { force: true });
  }
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
  const uris = layouts.map(layoutUri);
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

/** Rows an import put in a quarantine table, by source URI. */
async function quarantinedBySource(client: ClickHouseClient, quarantineTable: string, importId: string): Promise<Map<string, number>> {
  const rows = await selectRows<{ source: string; n: string | number }>(
    client,
    `SELECT c__source AS source, count() AS n FROM ${quoteIdentifier(quarantineTable)} WHERE c__import_id = {id:String} GROUP BY c__source`,
    { id: importId },
  );
  return new Map(rows.map((r) => [r.source, Number(r.n)]));
}
