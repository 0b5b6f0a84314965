import type { ClickHouseClient } from '@clickhouse/client';
import { BucketpipeError } from '../errors.js';
import { selectRows } from './queries.js';
import { quoteString } from './sql.js';

/**
 * The ClickHouse cluster the store's tables live on (`BUCKETPIPE_CLICKHOUSE_CLUSTER`), as the server
 * describes it. Decided once when the store is opened; table DDL reads it to decide where a table
 * lives:
 * - on a cluster of one shard, a datasource's rows are replicated to every node; with several
 *   shards, each shard holds a part of them in a shard-local table, replicated within the shard,
 *   behind a Distributed table named as the datasource;
 * - the bookkeeping tables (ledger, jobs, events, exports, leases, revisions) and the quarantine
 *   tables are replicated to every node, so that any node a worker talks to sees the same ledger.
 */
export interface ClusterLayout {
  name: string;
  /** Shards of the cluster; with more than one, data tables are spread over shard-local tables. */
  shards: number;
  /** The store's database, part of every ZooKeeper path of its tables. */
  database: string;
  /**
   * `BUCKETPIPE_REPLICA_CATCH_UP_MS` (default 10 s): how long a run waits for its node's copy of the
   * ledger to catch up with the other nodes' writes (replica-catch-up.ts) before it goes on without.
   */
  catchUpMs: number;
}

export const DEFAULT_CATCH_UP_MS = 10_000;

/** Reads the cluster's shape from the server; refuses a cluster the server does not know or a node without macros. */
export async function probeCluster(client: ClickHouseClient, name: string, where: string, catchUpMs = DEFAULT_CATCH_UP_MS): Promise<ClusterLayout> {
  const clusters = await selectRows<{ cluster: string; shards: string | number }>(
    client,
    'SELECT cluster, uniqExact(shard_num) AS shards FROM system.clusters GROUP BY cluster ORDER BY cluster',
  );
  const found = clusters.find((c) => c.cluster === name);
  if (!found) {
    const known = clusters.map((c) => c.cluster).join(', ') || 'none';
    throw new BucketpipeError('STORE_ERROR', `BUCKETPIPE_CLICKHOUSE_CLUSTER=${name}: the server at ${where} has no such cluster in its remote_servers (it has: ${known}).`);
  }
  const macros = new Set((await selectRows<{ macro: string }>(client, 'SELECT macro FROM system.macros')).map((m) => m.macro));
  const missing = ['shard', 'replica'].filter((m) => !macros.has(m));
  if (missing.length > 0) {
    throw new BucketpipeError(
      'STORE_ERROR',
      `BUCKETPIPE_CLICKHOUSE_CLUSTER=${name}: the server at ${where} defines no ${missing.map((m) => `{${m}}`).join(' or ')} macro; ` +
        'replicated tables are named by them (<macros><shard>…</shard><replica>…</replica></macros> in its config).',
    );
  }
  const [database] = await selectRows<{ db: string }>(client, 'SELECT currentDatabase() AS db');
  return { name, shards: Number(found.shards), database: database!.db, catchUpMs };
}

/** Whether a datasource's rows are spread over several shards (shard-local tables behind a Distributed table). */
export function isSharded(cluster: ClusterLayout | undefined): cluster is ClusterLayout {
  return cluster !== undefined && cluster.shards > 1;
}

/** The shard-local table that holds one shard's part of a sharded datasource's rows. */
export function shardLocalName(table: string): string {
  return `${table}_local`;
}

/** Where a replicated table keeps its replicas' common state in ZooKeeper. */
export type ReplicaScope = 'shard' | 'every-node';

/**
 * The ZooKeeper path of a table: per shard for a shard's part of the rows, one for the whole cluster
 * for the tables every node holds whole (on a cluster of one shard, its data tables too). The server
 * fills `{shard}` from its macros; a table of a one-shard cluster does not depend on that macro,
 * since a server that serves several clusters has one set of macros, which may be another's shards.
 */
export function zookeeperPath(cluster: ClusterLayout, table: string, scope: ReplicaScope): string {
  return scope === 'shard' ? `/clickhouse/tables/{shard}/${cluster.database}/${table}` : `/clickhouse/bucketpipe/${cluster.database}/${table}`;
}

/**
 * The engine call of a table on the cluster: a MergeTree-family engine becomes its Replicated
 * variant, with the ZooKeeper path and `{replica}` before its own arguments. An engine written as
 * Replicated* is given the same path and replica.
 */
export function replicatedEngineCall(cluster: ClusterLayout, table: string, scope: ReplicaScope, engine: string, args: readonly string[]): string {
  const family = engine.replace(/^Replicated/, '');
  return `Replicated${family}(${[quoteString(zookeeperPath(cluster, table, scope)), quoteString('{replica}'), ...args].join(', ')})`;
}
