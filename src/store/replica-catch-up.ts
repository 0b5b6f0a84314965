import type { ClickHouseClient } from '@clickhouse/client';
import type { ClusterLayout } from './cluster-layout.js';
import { pollUntil } from './poll.js';
import { selectRows } from './queries.js';

/**
 * On a cluster, a node's copy of a replicated table lags behind the writes made through another node:
 * by a fraction of a second normally, for as long as the node that holds a part is down otherwise. A
 * run decides from the ledger (what is imported, which rows an export takes), so it first lets its
 * node's copy catch up with every write made before it took its lease.
 *
 * A copy has caught up when it has taken every entry of the table's replication log into its queue
 * and fetched every part those entries name (system.replicas: `log_pointer > log_max_index`, or an
 * empty log; no insert left in the queue). `SYSTEM SYNC REPLICA` would say the same, but on 18.16 it waits without a bound
 * when the part's only holder is down, and keeps waiting on the server after the client gives up.
 */
export async function catchUpReplicas(
  store: { client: ClickHouseClient; cluster?: ClusterLayout },
  tables: readonly string[],
  /** Told once, when the copy is found behind and the wait begins. */
  onBehind: () => void = () => {},
): Promise<boolean> {
  if (!store.cluster) return true;
  return pollUntil(() => caughtUp(store.client, tables), { firstMs: 25, maxMs: 500, timeoutMs: store.cluster.catchUpMs, onFirstMiss: onBehind });
}

async function caughtUp(client: ClickHouseClient, tables: readonly string[]): Promise<boolean> {
  try {
    const replicas = await selectRows<{ zookeeper_path: string; log_pointer: string | number; log_max_index: string | number; inserts_in_queue: string | number }>(
      client,
      `SELECT zookeeper_path, log_pointer, log_max_index, inserts_in_queue FROM system.replicas
       WHERE database = currentDatabase() AND has({tables:Array(String)}, table)`,
      { tables },
    );
    for (const replica of replicas) {
      if (Number(replica.inserts_in_queue) > 0) return false;
      if (Number(replica.log_pointer) > Number(replica.log_max_index)) continue;
      // Both are 0 for a log that is empty and for a log of one entry not yet taken: ZooKeeper tells which.
      if (Number(replica.log_pointer) > 0 || !(await logIsEmpty(client, replica.zookeeper_path))) return false;
    }
    return true;
  } catch {
    // A replica that lost its ZooKeeper session cannot tell: it has not caught up.
    return false;
  }
}

async function logIsEmpty(client: ClickHouseClient, zookeeperPath: string): Promise<boolean> {
  const [row] = await selectRows<{ n: string | number }>(client, 'SELECT count() AS n FROM system.zookeeper WHERE path = {path:String}', { path: `${zookeeperPath}/log` });
  return Number(row?.n ?? 0) === 0;
}
