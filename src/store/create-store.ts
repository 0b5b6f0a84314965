import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { RemoteStoreConnection } from './remote-connection.js';
import { forOldServer } from './bind-params.js';
import { capabilitiesOf, type ServerCapabilities, type ServerFormat } from './server-capabilities.js';
import { hostStore, readHostRecord } from './store-host.js';
import { ENGINE_QUERY_LIMITS } from './engine-limits.js';
import { BucketpipeError } from '../errors.js';
import { keepNewFilesPrivate, makePrivate } from './private-files.js';
import { probeCluster, type ClusterLayout } from './cluster-layout.js';
import { failoverClient } from './failover-client.js';
import { engineAccessOf, type EngineAccess } from './engine-reads-server.js';
import { WHOLE_READ } from './server-rows.js';

/** Where the tables live: embedded chDB in this process, or a ClickHouse server. */
export interface Store {
  client: ClickHouseClient;
  kind: 'embedded' | 'server';
  /** A folder of this machine where the engine may write scratch files (rejected-row records). */
  scratchDir: string;
  /** Safe to print: never contains a password. */
  description: string;
  /** What the store's engine can do (all of it, for the embedded engine). */
  capabilities: ServerCapabilities;
  /** `BUCKETPIPE_CLICKHOUSE_CLUSTER`: the cluster the tables live on, as its server describes it. */
  cluster?: ClusterLayout;
  /** A server of one URL: where the worker's engine can read it itself (`engine-reads-server.ts`). */
  engineAccess?: EngineAccess;
  /** True once this handle cannot work again: the process that served the embedded store to it has stopped. Open the store anew. */
  gone?(): boolean;
  close(): Promise<void>;
}

export interface StoreSettings {
  /** `BUCKETPIPE_CLICKHOUSE_URL`, one URL or several nodes' separated by commas; unset = embedded chDB. */
  clickhouseUrl?: string;
  /** `BUCKETPIPE_DATA_DIR`; default `<project>/.bucketpipe/data`. */
  dataDir: string;
  /** `BUCKETPIPE_CLICKHOUSE_CLUSTER`, with a server: the cluster its tables live on. */
  cluster?: string;
  /** `BUCKETPIPE_REPLICA_CATCH_UP_MS`, on a cluster. */
  catchUpMs?: number;
  /** Who opens the store: `worker` and `dev` hold it for long, `cli` briefly. */
  role?: 'worker' | 'dev' | 'cli';
}

export function storeSettingsFromEnv(projectDir: string, env: NodeJS.ProcessEnv = process.env): StoreSettings {
  return {
    clickhouseUrl: env.BUCKETPIPE_CLICKHOUSE_URL || undefined,
    cluster: env.BUCKETPIPE_CLICKHOUSE_CLUSTER || undefined,
    catchUpMs: env.BUCKETPIPE_REPLICA_CATCH_UP_MS ? nonNegativeMs(env.BUCKETPIPE_REPLICA_CATCH_UP_MS, 'BUCKETPIPE_REPLICA_CATCH_UP_MS') : undefined,
    dataDir: resolve(projectDir, env.BUCKETPIPE_DATA_DIR || join('.bucketpipe', 'data')),
  };
}

/** Opens the store. The embedded engine allows one data directory per process. */
export async function createStore(settings: StoreSettings): Promise<Store> {
  const scratchDir = join(settings.dataDir, '..', 'scratch');
  // Rejected rows are written here with their raw text: the user's alone, as the store is.
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
  chmodSync(scratchDir, 0o700);
  if (settings.clickhouseUrl) return openServer(settings, settings.clickhouseUrl, scratchDir);
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  return openEmbedded(settings, scratchDir);
}

/**
 * A ClickHouse server, or several nodes of one cluster: calls go to the first node that answers and
 * move to the next when it goes away (failover-client.ts).
 */
async function openServer(settings: StoreSettings, urls: string, scratchDir: string): Promise<Store> {
  const clusterName = settings.cluster;
  const nodes = urls.split(',').map((u) => u.trim()).filter(Boolean).map(withoutTrailingSlash);
  const safe = nodes.map(withoutPassword).join(', ');
  // On a cluster, a replicated table drops a block identical to one it took before: every insert
  // (rows loaded again after an undo, ledger writes) must land, so no insert is deduplicated. No read
  // is cut short by a limit of the user's profile either (WHOLE_READ): a ledger read in part would
  // load objects again, an export in part would lose rows.
  const inserts = clusterName ? { insert_deduplicate: 0 as const } : undefined;
  const raw = failoverClient(nodes.map((url) => createClient({ url, log: QUIET, clickhouse_settings: { ...WHOLE_READ, ...inserts } })));
  await ping(raw, safe);
  const capabilities = await probeServer(raw).catch((error: unknown) => {
    throw explainRefusal(error, safe);
  });
  // Older servers take no query parameters: values are then put into the SQL text by one escaping function.
  const client = capabilities.queryParameters ? raw : forOldServer(raw);
  const cluster = clusterName ? await probeCluster(client, clusterName, safe, settings.catchUpMs) : undefined;
  const on = cluster ? ` (cluster ${cluster.name}, ${cluster.shards} shard${cluster.shards > 1 ? 's' : ''})` : '';
  const engineAccess = nodes.length === 1 ? engineAccessOf(nodes[0]!) : undefined;
  return { client, kind: 'server', scratchDir, description: `ClickHouse ${capabilities.version} at ${safe}${on}`, capabilities, cluster, engineAccess, close: () => raw.close() };
}

function nonNegativeMs(value: string, name: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new BucketpipeError('STORE_ERROR', `${name}=${value}: give a whole number of milliseconds, 0 or more.`);
  return ms;
}

/**
 * The server answered but refused the connection's user or database: said in terms of
 * BUCKETPIPE_CLICKHOUSE_URL, with what to do. The server's own words name no password.
 */
function explainRefusal(error: unknown, where: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /Database (\S+) doesn't exist/.exec(message);
  if (missing) {
    const database = missing[1]!.replace(/^`|`$/g, '');
    return new BucketpipeError(
      'STORE_ERROR',
      `The database ${database} of BUCKETPIPE_CLICKHOUSE_URL does not exist on the store at ${where}: create it first ` +
        `(CREATE DATABASE ${database}; on a cluster, CREATE DATABASE ${database} ON CLUSTER <name>), or name another one in the URL's path.`,
      { cause: error },
    );
  }
  if (/Wrong password|Authentication failed|Unknown user|password is incorrect|Code: (193|192|516)\b/.test(message)) {
    const said = message.split(/, e\.what\(\)|\n/)[0]!.replace(/^Code: \d+, e\.displayText\(\) = DB::Exception: /, '');
    return new BucketpipeError('STORE_ERROR', `The store at ${where} refused the user and password of BUCKETPIPE_CLICKHOUSE_URL: ${said}.`, { cause: error });
  }
  return error;
}

/** `http://host:8123/db/` names the database `db`, as `http://host:8123/db` does (the client would read `db/`). */
function withoutTrailingSlash(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.pathname.length <= 1 || !parsed.pathname.endsWith('/')) return url;
  parsed.pathname = parsed.pathname.replace(/\/+$/, '');
  return parsed.toString();
}

/** A store URL safe to print: scheme, host and path, never the user or password. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * The embedded engine takes one process per data directory. The process that opens it serves it to
 * the others on loopback (store-host.ts); a process that finds it taken uses that service. A
 * long-running process that finds it held by a short CLI command waits for the command to finish.
 */
async function openEmbedded(settings: StoreSettings, scratchDir: string): Promise<Store> {
  const role = settings.role ?? 'cli';
  // A holder may be starting (engine open, service not yet published): give it a moment.
  const deadline = Date.now() + (role === 'cli' ? 5_000 : 60_000);
  for (;;) {
    const holder = readHostRecord(settings.dataDir);
    if (holder && isAlive(holder.pid) && holder.pid !== process.pid) {
      const waitForHolder = holder.role === 'cli' && role !== 'cli' && Date.now() < deadline;
      if (!waitForHolder) {
        const client = createClient({ connection: new RemoteStoreConnection(holder), log: QUIET, clickhouse_settings: ENGINE_QUERY_LIMITS } as unknown as Parameters<typeof createClient>[0]);
        if ((await client.ping()).success) {
          return {
            client, kind: 'embedded', scratchDir, description: `embedded engine at ${settings.dataDir} (held by process ${holder.pid})`,
            capabilities: await probeServer(client), gone: () => !isAlive(holder.pid), close: () => client.close(),
          };
        }
      }
    } else {
      // The engine writes its files with this process's umask for as long as it runs.
      const restoreUmask = keepNewFilesPrivate();
      const opened = tryOpenEngine(settings.dataDir);
      if (!opened) restoreUmask();
      if (opened) {
        makePrivate(settings.dataDir);
        const client = createClient({ connection: opened, log: QUIET, clickhouse_settings: ENGINE_QUERY_LIMITS } as unknown as Parameters<typeof createClient>[0]);
        await ping(client, settings.dataDir);
        const host = await hostStore(opened, settings.dataDir, role);
        return {
          client,
          kind: 'embedded',
          scratchDir,
          description: `embedded engine at ${settings.dataDir}`,
          capabilities: await probeServer(client),
          close: async () => {
            await host.close();
            await client.close();
          },
        };
      }
    }
    if (Date.now() >= deadline) {
      throw new BucketpipeError(
        'STORE_UNAVAILABLE',
        `The embedded store at ${settings.dataDir} is in use by another process${holder ? ` (pid ${holder.pid})` : ''} that does not answer. ` +
          'Wait for it to finish, stop it, or set BUCKETPIPE_DATA_DIR to another folder.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The engine on this data directory, or undefined when another process holds it. */
function tryOpenEngine(dataDir: string): ChdbConnection | undefined {
  try {
    return createChdbConnection({ path: dataDir });
  } catch (cause) {
    const message = (cause as Error).message;
    if (/Cannot lock file|already running|Failed to create connection/i.test(message)) return undefined;
    throw new BucketpipeError('STORE_UNAVAILABLE', `The embedded store at ${dataDir} cannot be opened: ${message}`, { cause });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** The client's own logger would print failed queries' context on stderr; errors reach the caller instead. */
const QUIET = { level: ClickHouseLogLevel.OFF };

/** The server's version and the settings that decide what it can create. */
async function probeServer(client: ClickHouseClient): Promise<ServerCapabilities> {
  const version = ((await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json()) as Array<{ v: string }>)[0]?.v ?? '0';
  const settings = (await (
    await client.query({
      query: "SELECT name, value FROM system.settings WHERE name IN ('allow_experimental_low_cardinality_type', 'mutations_sync', 'additional_table_filters')",
      format: 'JSONEachRow',
    })
  ).json()) as Array<{ name: string; value: string }>;
  const value = (name: string) => settings.find((s) => s.name === name)?.value;
  const [hashed] = (await (
    await client.query({ query: "SELECT value FROM system.merge_tree_settings WHERE name = 'replace_long_file_name_to_hash'", format: 'JSONEachRow' })
  ).json()) as Array<{ value: string }>;
  // Whether the server's date library reads a day after 2105 (18.16's reads 2106-01-01 as 0).
  const [dates] = (await (
    await client.query({ query: "SELECT toUInt16(toDate('2106-01-01')) = 49673 AS after2105", format: 'JSONEachRow' })
  ).json()) as Array<{ after2105: number | string }>;
  return capabilitiesOf(version, {
    datesAfter2105: Number(dates?.after2105) === 1,
    lowCardinalityEnabled: value('allow_experimental_low_cardinality_type') === '1',
    mutationsSync: value('mutations_sync') !== undefined,
    tableFilters: value('additional_table_filters') !== undefined,
    longColumnNames: hashed?.value === '1',
    formats: await rowFormats(client),
  });
}

/** Which of the formats rows may travel in the server reads and writes; undefined where it cannot say. */
async function rowFormats(client: ClickHouseClient): Promise<ServerFormat[] | undefined> {
  try {
    const rows = (await (
      await client.query({
        query: "SELECT name, is_input, is_output FROM system.formats WHERE name IN ('Native', 'RowBinary', 'TabSeparated')",
        format: 'JSONEachRow',
      })
    ).json()) as Array<{ name: string; is_input: number | string; is_output: number | string }>;
    return rows.map((r) => ({ name: r.name, input: Number(r.is_input) === 1, output: Number(r.is_output) === 1 }));
  } catch {
    // A server without system.formats: rows travel as TabSeparated, which every version has.
    return undefined;
  }
}

async function ping(client: ClickHouseClient, where: string): Promise<void> {
  const result = await client.ping();
  if (!result.success) {
    throw new BucketpipeError('STORE_UNAVAILABLE', `The store at ${where} does not answer: ${result.error.message}`, {
      cause: result.error,
    });
  }
}
