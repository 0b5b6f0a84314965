import type { LocalEngine, StreamColumn } from './local-engine.js';
import { runStatement, type QuerySettings } from './queries.js';
import { quoteIdentifier } from './sql.js';

/**
 * Where the worker's engine reaches a server itself, over the server's HTTP interface: one node given
 * by a plain http(s) URL. Rows read this way go from the server into the engine's work without passing
 * through Node, which a ClickHouse 18.16 server sends them to in pieces of 4 KiB (an export of
 * 1,000,000 rows spent about a third of its time on them, measured). The password is only ever bound
 * as a query parameter of the engine's read, in a header, never in a URL or a message.
 */
export interface EngineAccess {
  /** `http(s)://host:port`. */
  origin: string;
  database: string;
  user: string;
  password: string;
}

/** Undefined for a URL whose own settings (`?…`) the engine's read would not carry. */
export function engineAccessOf(url: string): EngineAccess | undefined {
  const parsed = new URL(url);
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search) return undefined;
  return {
    origin: `${parsed.protocol}//${parsed.host}`,
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'default',
    user: decodeURIComponent(parsed.username) || 'default',
    password: decodeURIComponent(parsed.password),
  };
}

/** A table function of the worker's engine that reads the rows of a server query, with what it binds and sets. */
export interface EngineServerRead {
  from: string;
  params: Record<string, string>;
  settings: QuerySettings;
}

/**
 * The engine's read of a server query's rows as Native, columns typed as the server gives them, with
 * `requestSettings` as the request's own (the server runs a GET with `readonly = 2`: settings may
 * change, data may not).
 */
export function engineServerRead(access: EngineAccess, sql: string, columns: readonly StreamColumn[], requestSettings: Readonly<Record<string, string>>): EngineServerRead {
  const settings = Object.entries(requestSettings).map(([name, value]) => `&${name}=${encodeURIComponent(value)}`).join('');
  return {
    from: "url({bp_server_rows:String}, 'Native', {bp_server_structure:String}, headers('X-ClickHouse-User' = {bp_server_user:String}, 'X-ClickHouse-Key' = {bp_server_key:String}))",
    params: {
      bp_server_rows: `${access.origin}/?database=${encodeURIComponent(access.database)}${settings}&query=${encodeURIComponent(`${sql} FORMAT Native`)}`,
      bp_server_structure: columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', '),
      bp_server_user: access.user,
      bp_server_key: access.password,
    },
    // Without it the engine first asks the server with a HEAD, which runs the query once more (measured).
    // A failed read is not tried again: the engine would retry a query the server refused for about
    // 30 s (measured), where the caller reads the rows another way at once.
    settings: { http_make_head_request: 0, http_max_tries: 1 },
  };
}

/**
 * Runs `insert` (the head of an INSERT) over the engine's own read of the server. Undefined once it
 * has; the first line of the engine's error when the read or the write failed, for the caller to
 * read the rows another way (what the error names of the write's own secrets is the caller's to scrub).
 */
export async function insertFromServer(
  stage: LocalEngine,
  insert: string,
  read: EngineServerRead,
  params: Record<string, string> = {},
  settings: QuerySettings = {},
): Promise<string | undefined> {
  try {
    await runStatement(stage.client, `${insert} SELECT * FROM ${read.from}`, { ...params, ...read.params }, { ...settings, ...read.settings });
    return undefined;
  } catch (error) {
    return String(error instanceof Error ? error.message : error).split('\n')[0]!;
  }
}
