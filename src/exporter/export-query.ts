import type { ClickHouseClient } from '@clickhouse/client';
import { INTERNAL_TABLES } from '../store/internal-tables.js';
import { selectRows, type QuerySettings } from '../store/queries.js';
import { quoteIdentifier, quoteString } from '../store/sql.js';
import { IMPORT_TAG_COLUMN } from '../store/table-names.js';
import type { ExportSpec } from '../project/types.js';
import { BucketpipeError } from '../errors.js';
import type { ServerCapabilities } from '../store/server-capabilities.js';
import { isSharded, type ClusterLayout } from '../store/cluster-layout.js';

/** The SELECT an export runs, with the settings that restrict it to the run's rows. */
export interface ExportSelect {
  sql: string;
  settings: QuerySettings;
}

/** The rows a `new` run takes: those of the imports committed in (from, to] of the object ledger. */
export interface ImportWindow {
  from: number;
  to: number;
}

/**
 * EXPORT_QUERY (default: every column of the table). A `new` run restricts every read of the table,
 * wherever the query reads it, to the rows of the imports in its window (the engine's
 * additional_table_filters; a WHERE for the default query), so any query the user writes exports
 * each imported row once.
 */
export async function exportSelect(
  client: ClickHouseClient,
  store: { capabilities: ServerCapabilities; cluster?: ClusterLayout },
  table: string,
  spec: ExportSpec,
  window?: ImportWindow,
): Promise<ExportSelect> {
  const capabilities = store.capabilities;
  let sql = spec.query ?? `SELECT * FROM ${quoteIdentifier(table)}`;
  const settings: QuerySettings = {};
  if (window) {
    // Over several shards the ledger is read once, where the run read its window: each shard's own
    // copy of the ledger may not have every commit of the window yet.
    const within = isSharded(store.cluster) ? 'GLOBAL IN' : 'IN';
    const filter =
      `${quoteIdentifier(IMPORT_TAG_COLUMN)} ${within} (SELECT import_id FROM ${INTERNAL_TABLES.ledger} ` +
      `WHERE datasource = ${quoteString(table)} AND status = 'done' AND version > ${window.from} AND version <= ${window.to})`;
    if (spec.query === undefined) {
      // The table's own rows: a WHERE, the same on every server, in the query the engine's own read sends.
      sql = `${sql} WHERE ${filter}`;
    } else if (capabilities.tableFilters) {
      // A map literal in a setting: the one place this value cannot be a bound parameter.
      settings.additional_table_filters = { literal: `{${quoteString(table)}: ${quoteString(filter)}}` };
    } else {
      throw new BucketpipeError('PROJECT_INVALID', `datasource ${table}: ${unfilteredQueryProblem(capabilities)}`, { context: { datasource: table, file: spec.location.file, line: spec.location.line } });
    }
  }
  if (spec.columnCase) {
    const columns = await selectRows<{ name: string }>(client, `DESCRIBE (${sql})`);
    const rename = (name: string) => inCase(name, spec.columnCase!);
    assertDistinctRenames(table, spec, columns.map((c) => c.name), rename);
    sql = `SELECT ${columns.map((c) => `${quoteIdentifier(c.name)} AS ${quoteIdentifier(rename(c.name))}`).join(', ')} FROM (${sql})`;
  }
  return { sql, settings };
}

/** How many rows a run's SELECT returns. */
export async function countSelected(client: ClickHouseClient, select: ExportSelect): Promise<number> {
  const [row] = await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM (${select.sql})`, {}, select.settings);
  return Number(row?.n ?? 0);
}

/** Why a store cannot run this export, as `push` and the run say it; undefined when it can. */
export function exportSpecProblem(spec: ExportSpec, capabilities: ServerCapabilities): string | undefined {
  return spec.strategy === 'new' && spec.query !== undefined && !capabilities.tableFilters ? unfilteredQueryProblem(capabilities) : undefined;
}

function unfilteredQueryProblem(capabilities: ServerCapabilities): string {
  return `EXPORT_QUERY with EXPORT_STRATEGY new needs a server that filters table reads (ClickHouse 22.7 or later; this one is ${capabilities.version}); drop EXPORT_QUERY or use EXPORT_STRATEGY full.`;
}

/** Two columns that one case would give the same name: said in the datasource's terms, before the query runs. */
function assertDistinctRenames(table: string, spec: ExportSpec, names: readonly string[], rename: (name: string) => string): void {
  const first = new Map<string, string>();
  for (const name of names) {
    const renamed = rename(name);
    const earlier = first.get(renamed);
    if (earlier !== undefined) {
      throw new BucketpipeError(
        'PROJECT_INVALID',
        `datasource ${table}: EXPORT_COLUMN_CASE ${spec.columnCase} gives the columns ${earlier} and ${name} the same name ${renamed}; rename one with EXPORT_QUERY, or drop EXPORT_COLUMN_CASE.`,
        { context: { datasource: table, file: spec.location.file, line: spec.location.line } },
      );
    }
    first.set(renamed, name);
  }
}

/**
 * A column name in one letter case, letter by letter: a letter whose other case is more than one
 * letter (`ß` upper is `SS`, `İ` lower is `i̇`) stays as it is, so only the case changes.
 */
export function inCase(name: string, letterCase: 'upper' | 'lower'): string {
  let out = '';
  for (const letter of name) {
    const changed = letterCase === 'upper' ? letter.toUpperCase() : letter.toLowerCase();
    out += [...changed].length === 1 ? changed : letter;
  }
  return out;
}
