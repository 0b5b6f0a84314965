import { createServer, type Server } from 'node:net';
import { startLocalClickHouse, type LocalClickHouse, type LocalClickHousePorts } from './local-clickhouse.js';
import { startLocalZooKeeper, type LocalZooKeeper } from './local-zookeeper.js';

/**
 * A replicated ClickHouse cluster on loopback: one ZooKeeper and two clickhouse-server nodes, each
 * knowing both of two clusters over the same nodes:
 * - `replicated`: one shard of two replicas (internal replication: the tables replicate themselves);
 * - `sharded`: two shards of one replica each.
 * Replica macros are unique across the nodes (`n1`, `n2`), as tables replicated to every node need.
 */
export interface LocalCluster {
  zookeeper: LocalZooKeeper;
  nodes: LocalClickHouse[];
  stop(): Promise<void>;
}

export const REPLICATED_CLUSTER = 'replicated';
export const SHARDED_CLUSTER = 'sharded';

export async function startLocalCluster(): Promise<LocalCluster> {
  const zookeeper = await startLocalZooKeeper();
  // Each node's config names the other's port before it runs: the ports stay held until their node
  // starts, so that no other process (a test's server, a client's connection) takes one meanwhile.
  const reserved = [await reserveClickHousePorts(), await reserveClickHousePorts()];
  const ports = reserved.map((r) => r.ports);
  const config = remoteServers(ports);
  const nodes: LocalClickHouse[] = [];
  try {
    for (const [i, own] of ports.entries()) {
      await reserved[i]!.release();
      nodes.push(
        await startLocalClickHouse({
          ports: own,
          // The node's shard in the sharded cluster; in the replicated one every table path names its own.
          // Sessions of 12 s: a test machine's pauses do not expire them, and a killed node is back within a minute.
          replication: { zookeeperPort: zookeeper.port, shard: `0${i + 1}`, replica: `n${i + 1}`, sessionTimeoutMs: 12_000 },
          extraConfig: config,
        }),
      );
    }
  } catch (error) {
    await Promise.all(reserved.map((r) => r.release()));
    await Promise.all(nodes.map((n) => n.stop()));
    await zookeeper.stop();
    throw error;
  }
  return {
    zookeeper,
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await zookeeper.stop();
    },
  };
}

function remoteServers(ports: readonly LocalClickHousePorts[]): string {
  const replica = (p: LocalClickHousePorts) => `<replica><host>127.0.0.1</host><port>${p.tcp}</port></replica>`;
  return `  <remote_servers>
    <${REPLICATED_CLUSTER}><shard><internal_replication>true</internal_replication>${ports.map(replica).join('')}</shard></${REPLICATED_CLUSTER}>
    <${SHARDED_CLUSTER}>${ports.map((p) => `<shard><internal_replication>true</internal_replication>${replica(p)}</shard>`).join('')}</${SHARDED_CLUSTER}>
  </remote_servers>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
`;
}

/** Three loopback ports held open (listening) until `release`. */
async function reserveClickHousePorts(): Promise<{ ports: LocalClickHousePorts; release(): Promise<void> }> {
  const servers = [await listening(), await listening(), await listening()];
  const [http, tcp, interserver] = servers.map((s) => (s.address() as { port: number }).port) as [number, number, number];
  let released = false;
  return {
    ports: { http, tcp, interserver },
    release: async () => {
      if (released) return;
      released = true;
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

function listening(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
