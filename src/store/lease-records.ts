import type { ClickHouseClient } from '@clickhouse/client';
import { now } from '../clock.js';
import { INTERNAL_TABLES, toDateTime64 } from './internal-tables.js';
import { insertRows, selectRows } from './queries.js';

/**
 * The highest fence the store has seen for a lease name (or for every name, after a migration): the
 * floor of the next one, should Redis have lost its counter.
 */
export async function storedFence(client: ClickHouseClient, name: string, options: { tableExists?: boolean } = {}): Promise<number> {
  // No table yet: nothing was ever written under any lease.
  if (!options.tableExists) {
    const [table] = await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`, { name: INTERNAL_TABLES.leases });
    if (Number(table?.n ?? 0) === 0) return 0;
  }
  const rows = await selectRows<{ fence: string | number }>(
    client,
    `SELECT max(fence) AS fence FROM ${INTERNAL_TABLES.leases} WHERE name IN ({name:String}, '*')`,
    { name },
  );
  return Number(rows[0]?.fence ?? 0);
}

/** Who took which lease when: the fence floor for later holders, and the ops log's answer to "by whom". */
export async function recordLease(client: ClickHouseClient, lease: { name: string; fence: number; holder: string }): Promise<void> {
  await insertRows(client, INTERNAL_TABLES.leases, [{ name: lease.name, fence: lease.fence, holder: lease.holder, taken_at: toDateTime64(now()) }]);
}
