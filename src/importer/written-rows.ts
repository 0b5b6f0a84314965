import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { IMPORT_TAG_COLUMN } from './table-names.js';

/**
 * Counting the rows one insert wrote into a MergeTree table of the embedded store, where nothing else
 * writes to a datasource's table while its import runs: the parts numbered from the block after the
 * last one before the insert are the insert's own.
 */

/** The highest block number of the table's parts; the next insert's parts are numbered above it. */
export async function lastBlockNumber(client: ClickHouseClient, table: string): Promise<number> {
  const rows = await selectRows<{ n: string | null }>(
    client,
    `SELECT max(max_block_number) AS n FROM system.parts WHERE database = currentDatabase() AND table = {table:String}`,
    { table },
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * The rows of the import tagged `importId` in the parts written since `firstBlock`. The parts' own
 * row counts answer it without reading a column, unless a merge has already joined a new part to an
 * older one; the tag column of the joined parts is read then.
 */
export async function countWrittenRows(client: ClickHouseClient, table: string, importId: string, firstBlock: number): Promise<number> {
  // One snapshot of the active parts covers every row exactly once.
  const [parts] = await selectRows<{ rows: string; joined: string }>(
    client,
    `SELECT sumIf(rows, min_block_number >= {first:Int64}) AS rows, countIf(min_block_number < {first:Int64} AND max_block_number >= {first:Int64}) AS joined
     FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active`,
    { table, first: firstBlock },
  );
  if (Number(parts?.joined ?? 0) === 0) return Number(parts?.rows ?? 0);
  return countTaggedRows(client, table, importId, firstBlock);
}

/** Counts the tagged rows in the parts written since `firstBlock`, without scanning older parts. */
async function countTaggedRows(client: ClickHouseClient, table: string, importId: string, firstBlock: number): Promise<number> {
  const rows = await selectRows<{ n: string }>(
    client,
    // The part name (partition_min_max_level) is read with each row: a list of parts taken first
    // could miss the rows of parts merged between the two reads.
    `SELECT count() AS n FROM ${quoteIdentifier(table)}
     WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String} AND toUInt64(splitByChar('_', _part)[3]) >= {first:UInt64}`,
    { id: importId, first: firstBlock },
  );
  return Number(rows[0]?.n ?? 0);
}
