import type { ClickHouseClient } from '@clickhouse/client';
import { INTERNAL_TABLES } from '../store/internal-tables.js';
import { selectRows } from '../store/queries.js';
import type { ImportWindow } from './export-query.js';

/**
 * What decides how many rows an export run's default query returns from its table, as text to
 * compare: each partition's rows and newest block among the table's active parts, and for a `new`
 * run the window's commits in the ledger. Equal before a count and after a read of the rows means
 * the read returned the rows counted:
 * - an insert adds a block numbered above every earlier one of its partition;
 * - a delete, a TTL or a merge that drops rows (ReplacingMergeTree…) lowers a partition's rows, and
 *   only an insert (a new block) could raise them again;
 * - a merge that keeps every row changes neither;
 * - a commit that enters the window, however late, changes the window's count.
 */
export async function rowsState(client: ClickHouseClient, table: string, window?: ImportWindow): Promise<string> {
  const parts = await selectRows<{ p: string; rows: string | number; block: string | number }>(
    client,
    `SELECT partition_id AS p, sum(rows) AS rows, max(max_block_number) AS block
     FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active
     GROUP BY partition_id ORDER BY partition_id`,
    { table },
  );
  const commits = window
    ? await selectRows<{ n: string | number }>(
        client,
        `SELECT count() AS n FROM ${INTERNAL_TABLES.ledger} WHERE datasource = {ds:String} AND status = 'done' AND version > {from:UInt64} AND version <= {to:UInt64}`,
        { ds: table, from: window.from, to: window.to },
      )
    : [];
  return JSON.stringify([parts.map((p) => [p.p, String(p.rows), String(p.block)]), commits.map((c) => String(c.n))]);
}
