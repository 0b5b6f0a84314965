import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows, type QuerySettings } from '../../store/queries.js';
import { quoteIdentifier } from '../../store/sql.js';
import { IMPORT_TAG_COLUMN } from '../../store/table-names.js';

/**
 * Counting the rows one insert wrote into a MergeTree table, where nothing else writes to a
 * datasource's table while its import runs: the parts numbered above the blocks each partition had
 * before the insert are the insert's own. Block numbers grow table-wide in a MergeTree and partition
 * by partition in a ReplicatedMergeTree; a mark per partition serves both, in the embedded store and
 * on a server.
 */

/** The highest block number of each partition of a table before an insert. */
export type WriteMark = ReadonlyMap<string, number>;

export async function markWrites(client: ClickHouseClient, table: string): Promise<WriteMark> {
  const rows = await selectRows<{ p: string; n: string | number }>(
    client,
    `SELECT partition_id AS p, max(max_block_number) AS n FROM system.parts WHERE database = currentDatabase() AND table = {table:String} GROUP BY partition_id`,
    { table },
  );
  return new Map(rows.map((r) => [r.p, Number(r.n)]));
}

/**
 * The rows of the import tagged `importId` in the parts written since `mark`. The parts' own row
 * counts answer it without reading a column, unless a merge has already joined a new part to an
 * older one; the tag column of the joined parts is read then.
 */
export async function countWrittenRows(client: ClickHouseClient, table: string, importId: string, mark: WriteMark): Promise<number> {
  const floors = floorsOf(mark);
  // One snapshot of the active parts covers every row exactly once.
  const [parts] = await selectRows<{ rows: string | number; joined: string | number }>(
    client,
    `SELECT sumIf(rows, min_block_number > floor) AS rows, countIf(min_block_number <= floor AND max_block_number > floor) AS joined
     FROM (SELECT rows, min_block_number, max_block_number, ${floors.sql('partition_id')} AS floor
           FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active)`,
    { table, ...floors.params },
  );
  if (Number(parts?.joined ?? 0) === 0) return Number(parts?.rows ?? 0);
  return countTaggedRows(client, table, importId, floors);
}

/**
 * The rows of the import tagged `importId` in a Distributed table, read from every shard: each node
 * holds its own shard's parts only, so no mark of parts can answer it.
 */
export async function countTaggedRowsOnEveryShard(client: ClickHouseClient, table: string, importId: string, settings: QuerySettings): Promise<number> {
  const rows = await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM ${quoteIdentifier(table)} WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String}`, { id: importId }, settings);
  return Number(rows[0]?.n ?? 0);
}

/** Counts the tagged rows in the parts written since the mark, without scanning older parts. */
async function countTaggedRows(client: ClickHouseClient, table: string, importId: string, floors: Floors): Promise<number> {
  const rows = await selectRows<{ n: string | number }>(
    client,
    // The part name (partition_min_max_level[_mutation]) is read with each row: a list of parts taken
    // first could miss the rows of parts merged between the two reads.
    `SELECT count() AS n FROM ${quoteIdentifier(table)}
     WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String}
       AND toInt64(splitByChar('_', _part)[3]) > ${floors.sql("splitByChar('_', _part)[1]")}`,
    { id: importId, ...floors.params },
  );
  return Number(rows[0]?.n ?? 0);
}

interface Floors {
  /** The mark's block number of the partition named by `partition`; -1 for a partition it did not have. */
  sql(partition: string): string;
  params: Record<string, unknown>;
}

function floorsOf(mark: WriteMark): Floors {
  // An empty array has no element type on old servers: a table without parts needs no lookup.
  if (mark.size === 0) return { sql: () => 'toInt64(-1)', params: {} };
  return {
    sql: (partition) => `transform(${partition}, {mark_ids:Array(String)}, {mark_floors:Array(Int64)}, toInt64(-1))`,
    params: { mark_ids: [...mark.keys()], mark_floors: [...mark.values()] },
  };
}
