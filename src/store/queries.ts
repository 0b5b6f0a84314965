import type { ClickHouseClient } from '@clickhouse/client';
import { quoteString } from './sql.js';

export type QueryParams = Record<string, unknown>;

/**
 * Per-query engine settings: numbers, strings (quoted here), or `{ literal }` for a value that is a
 * SQL literal already built with the quoting functions (a map).
 */
export type QuerySettings = Record<string, string | number | { literal: string }>;

/**
 * A `SETTINGS a = 1, b = 'x'` clause. Settings travel in the query text, never as client settings:
 * the embedded engine applies client settings with `SET`, which would leak into every later query.
 */
export function settingsClause(settings: QuerySettings): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return '';
  const parts = entries.map(([name, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid setting name ${name}`);
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? quoteString(value) : value.literal;
    return `${name} = ${text}`;
  });
  return ` SETTINGS ${parts.join(', ')}`;
}

/** Runs a SELECT (or DESCRIBE) and returns its rows as objects. */
export async function selectRows<T>(
  client: ClickHouseClient,
  query: string,
  params: QueryParams = {},
  settings: QuerySettings = {},
): Promise<T[]> {
  const result = await client.query({ query: query + settingsClause(settings), format: 'JSONEachRow', query_params: params });
  return (await result.json()) as T[];
}

/**
 * Runs a statement that returns no rows (DDL, INSERT … SELECT, ALTER). Settings only where the
 * statement takes them. An aborted `signal` stops waiting for it (and, on a server, cancels it).
 */
export async function runStatement(
  client: ClickHouseClient,
  query: string,
  params: QueryParams = {},
  settings: QuerySettings = {},
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  await client.command({ query: query + settingsClause(settings), query_params: params, abort_signal: signal });
}

/** Inserts plain objects with JSONEachRow. */
export async function insertRows(client: ClickHouseClient, table: string, rows: readonly object[]): Promise<void> {
  if (rows.length === 0) return;
  await client.insert({ table, values: rows as object[], format: 'JSONEachRow' });
}
