import type { ClickHouseClient } from '@clickhouse/client';
import { now } from '../clock.js';
import { INTERNAL_TABLES, toDateTime64 } from './internal-tables.js';
import { insertRows, selectRows } from './queries.js';
import { VERSIONS_PER_FENCE } from './versions.js';

/**
 * The highest fence the store has seen for a lease name: the floor of the next one, should Redis have
 * lost its counter (come back empty, or from an old snapshot). For a run's lease, its job rows in the
 * ops log say it (a run writes its job's row first, versioned by its fence); for a push, the lease
 * records; and a store migrated from clock versions records a floor for every name (`*`).
 */
export async function storedFence(
  client: ClickHouseClient,
  name: string,
  options: { tablesExist?: boolean; job?: { kind: 'import' | 'export'; datasource: string } } = {},
): Promise<number> {
  // No table yet: nothing was ever written under any lease.
  if (!options.tablesExist) {
    const [table] = await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`, { name: INTERNAL_TABLES.leases });
    if (Number(table?.n ?? 0) === 0) return 0;
  }
  const recorded = `(SELECT max(fence) FROM ${INTERNAL_TABLES.leases} WHERE name IN ({name:String}, '*'))`;
  const byJobs = options.job
    ? `, intDiv((SELECT max(version) FROM ${INTERNAL_TABLES.jobs} WHERE datasource = {datasource:String} AND kind = {kind:String}), {per:UInt64})`
    : '';
  const rows = await selectRows<{ fence: string | number }>(
    client,
    `SELECT greatest(${recorded}${byJobs || ', 0'}) AS fence`,
    { name, per: VERSIONS_PER_FENCE, datasource: options.job?.datasource ?? '', kind: options.job?.kind ?? '' },
  );
  return Number(rows[0]?.fence ?? 0);
}

/** Who took the push lease when: the fence floor of later pushes. */
export async function recordLease(client: ClickHouseClient, lease: { name: string; fence: number; holder: string }): Promise<void> {
  await insertRows(client, INTERNAL_TABLES.leases, [{ name: lease.name, fence: lease.fence, holder: lease.holder, taken_at: toDateTime64(now()) }]);
}
