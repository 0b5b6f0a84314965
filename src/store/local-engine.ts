import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { ENGINE_QUERY_LIMITS } from './engine-limits.js';

/**
 * The worker's own engine when the store is a ClickHouse server: it reads the objects, decodes, casts
 * and splits them into local staging tables, and streams the typed rows out. The server never sees
 * S3 or its credentials. It keeps its tables in a temporary folder for the life of the process.
 */
export interface LocalEngine {
  client: ClickHouseClient;
  /** The result of a query as a byte stream in `format`, chunk by chunk (memory stays bounded). */
  stream(query: string, format: string): Readable;
  /** Inserts a byte stream in `format` into a local table, chunk by chunk, with backpressure. */
  insertStream(table: string, values: Readable, format: 'TabSeparated'): Promise<void>;
  close(): Promise<void>;
}

export function openLocalEngine(): LocalEngine {
  const connection: ChdbConnection = createChdbConnection({ path: ':memory:' });
  const client = createClient({ connection, log: { level: ClickHouseLogLevel.OFF }, clickhouse_settings: ENGINE_QUERY_LIMITS } as unknown as Parameters<typeof createClient>[0]);
  return {
    client,
    stream(query, format) {
      const chunks = connection.chdb.queryStream(query, { format });
      return Readable.from(
        (async function* () {
          for await (const chunk of chunks) yield Buffer.from(chunk.raw());
        })(),
        { objectMode: false },
      );
    },
    async insertStream(table, values, format) {
      await connection.chdb.streamInsert({ table, values, format });
    },
    close: () => client.close(),
  };
}
