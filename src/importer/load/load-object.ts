import type { ImportContext } from '../import-context.js';
import type { ObjectLayout } from '../probe/probe-object.js';
import { undoImport } from '../commit.js';
import { readDirectly } from './direct-read.js';
import type { LoadRequest } from './load-request.js';
import { layoutUri, type LoadResult } from './load-result.js';
import { splitInStore, splitThroughStage } from './quarantine-split.js';
import { LONE_CARRIAGE_RETURN } from './raw-read.js';

export type { LoadResult } from './load-result.js';

/**
 * Loads objects of one layout, in one statement, all under one import id. Rows written to the data
 * table carry the import id in the hidden tag column, so an interrupted load can be undone exactly.
 * Results are per object, in order.
 */
export async function loadObjects(ctx: ImportContext, request: LoadRequest): Promise<LoadResult[]> {
  try {
    return await loadAsProbed(ctx, request);
  } catch (error) {
    // An NDJSON read met a lone \r its head did not show: what it wrote goes, and the objects are read
    // again with lone \r as line ends too (that read has no such stop).
    if (!(error instanceof Error && error.message.includes(LONE_CARRIAGE_RETURN)) || ctx.signal?.aborted) throw error;
    const { layouts, importId } = request;
    ctx.log.debug({ stage: 'lone_carriage_return', objects: layouts.map(layoutUri), importId }, 'stage');
    // A staged load had shipped nothing to the store yet; its staging tables start empty each load.
    if (ctx.target.kind === 'in-store') await undoImport(ctx.store, ctx.datasource.name, importId);
    const again = layouts.map((l) => (l.format === 'ndjson' && !l.jsonArray ? { ...l, loneCarriageReturns: true } : l));
    return loadAsProbed(ctx, { ...request, layouts: again });
  }
}

export async function loadObject(ctx: ImportContext, request: LoadRequest & { layouts: readonly [ObjectLayout] }): Promise<LoadResult> {
  return (await loadObjects(ctx, request))[0]!;
}

async function loadAsProbed(ctx: ImportContext, request: LoadRequest): Promise<LoadResult[]> {
  const { layouts } = request;
  const readable = layouts.filter((l) => !(l.empty || (l.format !== 'ndjson' && l.columns.length === 0)));
  const loaded = readable.length === 0 ? new Map<string, LoadResult>() : await loadReadable(ctx, { ...request, layouts: readable });
  return layouts.map((l) => loaded.get(layoutUri(l)) ?? { records: 0, headerLines: 0, rows: 0, quarantined: 0 });
}

/**
 * The choice of strategy. A lone object is first read directly into the table (with a server as the
 * store, its rows stream from the worker's engine straight into the server's table), and only when
 * that stops does the split load it; a batch goes through the split at once. Staged in the worker's
 * engine, the split's rows are then shipped. In front of several shards every load is staged: a
 * stopped read's rows would have to be found and removed on every shard.
 */
async function loadReadable(ctx: ImportContext, request: LoadRequest): Promise<Map<string, LoadResult>> {
  const target = ctx.target;
  const { layouts, columns, importId } = request;
  const overShards = target.kind === 'staged' && target.overShards;
  if (layouts.length === 1 && !overShards) {
    const loaded = await readDirectly(ctx, layouts[0]!, columns, importId);
    if (loaded) return loaded;
  }
  return target.kind === 'staged' ? splitThroughStage(ctx, target, request) : splitInStore(ctx, target, request);
}
