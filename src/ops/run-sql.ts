import type { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';

/** Statements that return rows get a FORMAT; the others (DDL, INSERT, ALTER) run as commands. */
const RETURNS_ROWS = /^\s*(\(|SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b/i;

/** The output formats a query's rows can be asked in. */
export const SQL_FORMATS = ['JSONEachRow', 'CSV', 'CSVWithNames', 'TSV', 'TSVWithNames', 'Pretty', 'PrettyCompact'];

/** A statement run as a command, or the rows of a query as the store formats them. */
export type SqlOutcome = { kind: 'command' } | { kind: 'rows'; stream: Readable };

/** Runs one statement on the store (a trailing `;` is dropped); rows come in `format` unless the query names its own. */
export async function runSql(client: ClickHouseClient, query: string, format: string): Promise<SqlOutcome> {
  const statement = query.trim().replace(/;\s*$/, '');
  if (!RETURNS_ROWS.test(statement)) {
    await client.command({ query: statement });
    return { kind: 'command' };
  }
  // A query that names its own FORMAT keeps it.
  const withFormat = /\bFORMAT\s+\w+\s*$/i.test(statement) ? statement : `${statement}\nFORMAT ${formatName(format)}`;
  const result = await client.exec({ query: withFormat });
  return { kind: 'rows', stream: result.stream };
}

function formatName(format: string): string {
  const known = SQL_FORMATS.find((f) => f.toLowerCase() === format.toLowerCase());
  if (!known) throw new Error(`--format ${format} is not supported: use one of ${SQL_FORMATS.join(', ')}`);
  return known;
}
