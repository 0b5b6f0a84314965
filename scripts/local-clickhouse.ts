import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './local-redis.js';

/** A user of every local server who has a password, with characters a URL must encode. */
export const PASSWORD_USER = { name: 'with_password', password: 'p@ss w:rd/+%!' } as const;

/**
 * A user of every local server whose profile cuts a result short past 12 rows (`max_result_rows`,
 * `result_overflow_mode = break`: at the end of the block that passes the limit), as an
 * administrator may limit a shared server.
 */
export const LIMITED_USER = { name: 'twelve_rows_at_most', profile: 'twelve_rows_at_most' } as const;

/** A private ClickHouse server (the machine's clickhouse-server binary) with its own folder and ports. */
export interface LocalClickHouse {
  /** `http://default@127.0.0.1:PORT/default`, for BUCKETPIPE_CLICKHOUSE_URL. */
  url: string;
  /** Kills the server (SIGKILL) and keeps its data: the store is unavailable until `start()`. */
  kill(): Promise<void>;
  /** After `kill()`: starts it again on the same ports and data. */
  start(): Promise<void>;
  /** Kills the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts clickhouse-server on free loopback ports with a config of its own (paths, ports, logs under a
 * temp folder), so it touches nothing of a packaged installation. The root tag `yandex` is the one
 * every server version reads.
 */
export interface LocalClickHouseOptions {
  binary?: string;
  /**
   * A replica: ZooKeeper on this loopback port, with these macros (`{shard}`, `{replica}`). A short
   * session (default 5 s) lets a replica killed with SIGKILL rejoin soon after it is started again; a
   * longer one keeps a replica of a busy machine from going read-only between its heartbeats.
   */
  replication?: { zookeeperPort: number; shard: string; replica: string; sessionTimeoutMs?: number };
  /** Ports chosen beforehand (a cluster's nodes name each other's); free ones where unset. */
  ports?: LocalClickHousePorts;
  /** More elements of the server's config (`remote_servers`, `distributed_ddl`), as XML. */
  extraConfig?: string;
}

export interface LocalClickHousePorts {
  http: number;
  tcp: number;
  interserver: number;
}

/** Three free loopback ports for a server. */
async function freeClickHousePorts(): Promise<LocalClickHousePorts> {
  return { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
}

export async function startLocalClickHouse(options: LocalClickHouseOptions = {}): Promise<LocalClickHouse> {
  const binary = options.binary ?? (process.env.CLICKHOUSE_SERVER_BIN || 'clickhouse-server');
  const replication = options.replication
    ? `  <interserver_http_host>127.0.0.1</interserver_http_host>
  <zookeeper><node><host>127.0.0.1</host><port>${options.replication.zookeeperPort}</port></node><session_timeout_ms>${options.replication.sessionTimeoutMs ?? 5000}</session_timeout_ms></zookeeper>
  <macros><shard>${options.replication.shard}</shard><replica>${options.replication.replica}</replica></macros>
`
    : '';
  const dir = mkdtempSync(join(tmpdir(), 'bucketpipe-clickhouse-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(dir, sub));
  const { http, tcp, interserver } = options.ports ?? (await freeClickHousePorts());
  writeFileSync(
    join(dir, 'config.xml'),
    `<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog><console>0</console></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${interserver}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
${replication}${options.extraConfig ?? ''}</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<yandex>
  <profiles><default></default><${LIMITED_USER.profile}><max_result_rows>12</max_result_rows><result_overflow_mode>break</result_overflow_mode></${LIMITED_USER.profile}></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default><${PASSWORD_USER.name}><password>${PASSWORD_USER.password}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></${PASSWORD_USER.name}><${LIMITED_USER.name}><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>${LIMITED_USER.profile}</profile><quota>default</quota></${LIMITED_USER.name}></users>
  <quotas><default></default></quotas>
</yandex>
`,
  );
  let server = await launch(binary, dir, http);
  return {
    url: `http://default@127.0.0.1:${http}/default`,
    kill: () => server.kill(),
    start: async () => {
      server = await launch(binary, dir, http);
    },
    stop: async () => {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the server of a prepared folder and resolves once it answers on its HTTP port. */
async function launch(binary: string, dir: string, http: number): Promise<{ kill(): Promise<void> }> {
  const child = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  let killing = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // A server that goes away on its own leaves its reason in its log, which stop() removes: say it now.
      if (!killing) process.stderr.write(`clickhouse-server on port ${http} exited by itself (${signal ?? code}):\n${output.slice(-2000)}${tailOf(join(dir, 'log', 'error.log'))}\n`);
      resolve();
    }),
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}: ${output.slice(-2000)}`);
    const ready = await fetch(`http://127.0.0.1:${http}/ping`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      killing = true;
      child.kill('SIGKILL');
      throw new Error(`clickhouse-server did not answer on port ${http}: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    kill: async () => {
      killing = true;
      stopChild(child);
      await exited;
    },
  };
}

/** The last lines of a log file, or nothing. */
function tailOf(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
