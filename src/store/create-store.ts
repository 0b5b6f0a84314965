import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { BucketpipeError } from '../errors.js';

/** Where the tables live: embedded chDB in this process, or a ClickHouse server. */
export interface Store {
  client: ClickHouseClient;
  kind: 'embedded' | 'server';
  /** A folder of this machine where the engine may write scratch files (rejected-row records). */
  scratchDir: string;
  /** Safe to print: never contains a password. */
  description: string;
  close(): Promise<void>;
}

export interface StoreSettings {
  /** `BUCKETPIPE_CLICKHOUSE_URL`; unset = embedded chDB. */
  clickhouseUrl?: string;
  /** `BUCKETPIPE_DATA_DIR`; default `<project>/.bucketpipe/data`. */
  dataDir: string;
}

export function storeSettingsFromEnv(projectDir: string, env: NodeJS.ProcessEnv = process.env): StoreSettings {
  return {
    clickhouseUrl: env.BUCKETPIPE_CLICKHOUSE_URL || undefined,
    dataDir: resolve(projectDir, env.BUCKETPIPE_DATA_DIR || join('.bucketpipe', 'data')),
  };
}

/** Opens the store. The embedded engine allows one data directory per process. */
export async function createStore(settings: StoreSettings): Promise<Store> {
  const scratchDir = join(settings.dataDir, '..', 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  if (settings.clickhouseUrl) {
    const url = new URL(settings.clickhouseUrl);
    const safe = `${url.protocol}//${url.host}${url.pathname}`;
    const client = createClient({ url: settings.clickhouseUrl });
    await ping(client, safe);
    return { client, kind: 'server', scratchDir, description: safe, close: () => client.close() };
  }
  mkdirSync(settings.dataDir, { recursive: true });
  let connection;
  try {
    connection = createChdbConnection({ path: settings.dataDir });
  } catch (cause) {
    throw new BucketpipeError(
      'STORE_UNAVAILABLE',
      `The embedded store at ${settings.dataDir} cannot be opened: ${(cause as Error).message}. ` +
        'Another bucketpipe process may be using it; stop that process or set BUCKETPIPE_DATA_DIR.',
      { cause },
    );
  }
  // The connection option is typed for a newer client-common than the one @clickhouse/client pins.
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]);
  await ping(client, settings.dataDir);
  return {
    client,
    kind: 'embedded',
    scratchDir,
    description: `embedded engine at ${settings.dataDir}`,
    close: () => client.close(),
  };
}

async function ping(client: ClickHouseClient, where: string): Promise<void> {
  const result = await client.ping();
  if (!result.success) {
    throw new BucketpipeError('STORE_UNAVAILABLE', `The store at ${where} does not answer: ${result.error.message}`, {
      cause: result.error,
    });
  }
}
