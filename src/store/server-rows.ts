import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { LocalEngine, StreamColumn } from './local-engine.js';
import { pollUntil } from './poll.js';
import { runStatement, selectRows, settingsClause, type QuerySettings } from './queries.js';
import type { RowFormat, ServerCapabilities } from './server-capabilities.js';
import { identifierList, quoteIdentifier, quoteString } from './sql.js';
import { engineServerRead, insertFromServer, type EngineAccess, type EngineServerRead } from './engine-reads-server.js';

/** A ClickHouse server as the store: its client and what it can do. */
export interface ServerSide {
  client: ClickHouseClient;
  capabilities: ServerCapabilities;
  engineAccess?: EngineAccess;
}

/** What one ship sends: columns of a local table into the same columns of a server table. */
export interface Shipment {
  /** The local table of the worker's engine. */
  from: string;
  /** The server's table. */
  to: string;
  /** The columns, named alike at both ends. */
  columns: readonly string[];
  /** A column every shipped row takes this value in (the import tag), besides `columns`. */
  constant?: { column: string; value: string };
  /** Insert settings of the server's statement. */
  settings?: QuerySettings;
  signal?: AbortSignal;
}

/**
 * Streams the rows of a local table to a server table, in one INSERT, in the server's row format
 * (Native where it has it): the engine encodes them chunk by chunk and the server decodes them as they
 * come, so memory stays bounded on both ends.
 */
export async function shipToServer(server: ServerSide, stage: LocalEngine, shipment: Shipment): Promise<void> {
  const list = identifierList(shipment.columns);
  const constant = shipment.constant;
  // The column is named as the server's: Native carries names. The engine takes the value as text here
  // (its streamed reads bind no parameters); quoteString is the one escaping function for that.
  const extra = constant ? `, ${quoteString(constant.value)} AS ${quoteIdentifier(constant.column)}` : '';
  await sendToServer(server, stage, { sql: `SELECT ${list}${extra} FROM ${quoteIdentifier(shipment.from)}` }, {
    to: shipment.to,
    columns: constant ? [...shipment.columns, constant.column] : shipment.columns,
    settings: shipment.settings,
    signal: shipment.signal,
  });
}

/** A query of the worker's engine whose rows go to a server. */
export interface EngineRows {
  /** Its result columns are named as the server table's columns they go to (Native matches by name). */
  sql: string;
  params?: Record<string, string>;
  settings?: QuerySettings;
}

/** Where rows sent to a server go: the server table, its columns, and the insert's settings. */
export interface ServerInsert {
  to: string;
  columns: readonly string[];
  settings?: QuerySettings;
  signal?: AbortSignal;
}

/**
 * Streams the rows of an engine query into a server table, in one INSERT in the server's row format.
 * The server writes blocks as they arrive, so a send that fails part way has written some: it returns
 * (fails) only once the server's insert has ended, so that nothing it writes lands after the caller
 * has counted or removed what it wrote.
 */
export async function sendToServer(server: ServerSide, stage: LocalEngine, rows: EngineRows, insert: ServerInsert): Promise<void> {
  const format = server.capabilities.rowFormat;
  const queryId = randomUUID();
  const values = stage.stream(rows.sql, format, { params: rows.params, settings: rows.settings });
  try {
    const sent = await server.client.exec({
      query: `INSERT INTO ${quoteIdentifier(insert.to)} (${identifierList(insert.columns)}) FORMAT ${format}`,
      values,
      clickhouse_settings: insert.settings as Record<string, number> | undefined,
      abort_signal: insert.signal,
      query_id: queryId,
    });
    sent.stream.resume();
  } catch (error) {
    // The engine's query ends too (an aborted send may leave it waiting to be read), before the
    // engine takes its next statement.
    if (!values.closed) {
      const closed = once(values, 'close');
      values.destroy();
      await closed.catch(() => undefined);
    }
    await serverQueryEnded(server.client, queryId);
    throw error;
  }
}

/** Waits until the server no longer runs the query (its insert writes nothing more). */
async function serverQueryEnded(client: ClickHouseClient, queryId: string): Promise<void> {
  await pollUntil(
    async () => {
      const [row] = await selectRows<{ n: string | number }>(client, 'SELECT count() AS n FROM system.processes WHERE query_id = {id:String}', { id: queryId });
      return Number(row?.n ?? 0) === 0;
    },
    { firstMs: 5, maxMs: 200 },
  );
}

/**
 * Request settings of every request to a server (the store's client sets them) and of the engine's
 * own reads of it: a limit of the user's profile that is reached (rows, bytes or time of a read or of
 * its result; the sets, joins and transfers of its subqueries) fails the query instead of cutting it
 * short (`break`), which would read part of a ledger or export part of the rows and say ok. They
 * travel with the request: 18.16 takes a result limit's mode from there, not from the query's
 * SETTINGS (measured).
 */
export const WHOLE_READ: Readonly<Record<string, string>> = {
  result_overflow_mode: 'throw',
  read_overflow_mode: 'throw',
  timeout_overflow_mode: 'throw',
  set_overflow_mode: 'throw',
  join_overflow_mode: 'throw',
  distinct_overflow_mode: 'throw',
  transfer_overflow_mode: 'throw',
  group_by_overflow_mode: 'throw',
  sort_overflow_mode: 'throw',
};

/** A query of the server whose rows are wanted in the worker's engine. */
export interface ServerSelect {
  sql: string;
  settings: QuerySettings;
}

/** The rows of a server query as a byte stream in the server's row format, and their columns. */
export interface ServerRows {
  /** The query's columns with the server's types, in order. */
  columns: StreamColumn[];
  format: RowFormat;
  /** Starts the query; its rows as they come. */
  open(): Promise<Readable>;
  /** The same rows read by the worker's engine from the server itself, where it can (`engine-reads-server.ts`). */
  direct?: EngineServerRead;
}

/** Describes a server query's columns; `open` runs it and streams its rows in the server's row format. */
export async function serverRows(server: ServerSide, select: ServerSelect): Promise<ServerRows> {
  const described = (await (
    await server.client.query({ query: `DESCRIBE (${select.sql})${settingsClause(select.settings)}`, format: 'JSONEachRow' })
  ).json()) as StreamColumn[];
  const format = server.capabilities.rowFormat;
  const columns = described.map((c) => ({ name: c.name, type: c.type }));
  const query = `${select.sql}${settingsClause(select.settings)}`;
  const readable = server.engineAccess && format === 'Native';
  return {
    columns,
    format,
    open: async () => (await server.client.exec({ query: `${query} FORMAT ${format}` })).stream,
    direct: readable ? engineServerRead(server.engineAccess!, query, columns, WHOLE_READ) : undefined,
  };
}

/** How the rows of `readFromServer` came: read by the engine from the server itself, or through Node (and why). */
export type ServerReadWay = { via: 'engine' } | { via: 'node'; engineFailed?: string };

/**
 * Copies the rows of a server query into a local table made for them (the caller drops it), with
 * the query's columns and the server's types. The engine reads them from the server itself where it
 * can (the local table's count is then what was read, whatever the server's table did meanwhile);
 * otherwise, or when that read fails, they stream through Node in the server's row format.
 */
export async function readFromServer(server: ServerSide, stage: LocalEngine, select: ServerSelect, local: string): Promise<ServerReadWay> {
  const rows = await serverRows(server, select);
  const table = quoteIdentifier(local);
  await runStatement(stage.client, `DROP TABLE IF EXISTS ${table}`);
  await runStatement(stage.client, `CREATE TABLE ${table} (${rows.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`);
  const engineFailed = rows.direct && (await insertFromServer(stage, `INSERT INTO ${table}`, rows.direct));
  if (rows.direct && engineFailed === undefined) return { via: 'engine' };
  // What a failed read wrote goes before the rows come again through Node.
  if (engineFailed !== undefined) await runStatement(stage.client, `TRUNCATE TABLE ${table}`);
  await stage.insertStream(local, rows.columns, await rows.open(), rows.format);
  return { via: 'node', engineFailed: engineFailed?.slice(0, 300) };
}
