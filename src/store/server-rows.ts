import type { ClickHouseClient } from '@clickhouse/client';
import type { LocalEngine, StreamColumn } from './local-engine.js';
import { runStatement, settingsClause, type QuerySettings } from './queries.js';
import type { ServerCapabilities } from './server-capabilities.js';
import { identifierList, quoteIdentifier, quoteString } from './sql.js';

/** A ClickHouse server as the store: its client and what it can do. */
export interface ServerSide {
  client: ClickHouseClient;
  capabilities: ServerCapabilities;
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
  const format = server.capabilities.rowFormat;
  const list = identifierList(shipment.columns);
  const constant = shipment.constant;
  const into = constant ? `${list}, ${quoteIdentifier(constant.column)}` : list;
  // The column is named as the server's: Native carries names. The engine takes the value as text here
  // (its streamed reads bind no parameters); quoteString is the one escaping function for that.
  const extra = constant ? `, ${quoteString(constant.value)} AS ${quoteIdentifier(constant.column)}` : '';
  const shipped = await server.client.exec({
    query: `INSERT INTO ${quoteIdentifier(shipment.to)} (${into}) FORMAT ${format}`,
    values: stage.stream(`SELECT ${list}${extra} FROM ${quoteIdentifier(shipment.from)}`, format),
    clickhouse_settings: shipment.settings as Record<string, number> | undefined,
    abort_signal: shipment.signal,
  });
  shipped.stream.resume();
}

/** A query of the server whose rows are wanted in the worker's engine. */
export interface ServerSelect {
  sql: string;
  settings: QuerySettings;
}

/**
 * Streams the rows of a server query into a local table made for them (the caller drops it), in the
 * server's row format. The local table has the query's columns with the server's types.
 */
export async function readFromServer(server: ServerSide, stage: LocalEngine, select: ServerSelect, local: string): Promise<StreamColumn[]> {
  const described = (await (
    await server.client.query({ query: `DESCRIBE (${select.sql})${settingsClause(select.settings)}`, format: 'JSONEachRow' })
  ).json()) as StreamColumn[];
  const columns = described.map((c) => ({ name: c.name, type: c.type }));
  const format = server.capabilities.rowFormat;
  await runStatement(stage.client, `DROP TABLE IF EXISTS ${quoteIdentifier(local)}`);
  await runStatement(stage.client, `CREATE TABLE ${quoteIdentifier(local)} (${columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`);
  const rows = await server.client.exec({ query: `${select.sql}${settingsClause(select.settings)} FORMAT ${format}` });
  await stage.insertStream(local, columns, rows.stream, format);
  return columns;
}
