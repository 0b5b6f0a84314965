import type { ClickHouseClient } from '@clickhouse/client';
import type { ColumnSpec, ProjectProblem } from '../project/types.js';
import { selectRows } from './queries.js';
import { unstorableColumnName, unsupportedType, type ServerCapabilities } from './server-capabilities.js';

/**
 * Everything that would stop the store from holding these columns, found before anything is created:
 * names it cannot store, type families it lacks, types it cannot parse or create. Each problem is at
 * its column's place (its SCHEMA line, or the IMPORT_* line of an inferred schema). `inferredFrom`
 * names the object an inferred schema comes from. The canonical types are the store's own spelling.
 */
export async function checkColumnsForStore(
  store: { client: ClickHouseClient; capabilities: ServerCapabilities },
  columns: readonly ColumnSpec[],
  inferredFrom?: string,
): Promise<{ problems: ProjectProblem[]; canonical: Map<string, string> }> {
  const label = (c: ColumnSpec) => `column ${shownName(c.name)}${inferredFrom ? ` (inferred from ${inferredFrom})` : ''}`;
  const fix = inferredFrom ? ' Declare the columns in a SCHEMA.' : '';
  const problems: ProjectProblem[] = [];
  for (const column of columns) {
    const why = unstorableColumnName(column.name, store.capabilities);
    if (why) problems.push({ location: column.location, message: `${label(column)}: ${why}.${fix}` });
  }
  const unsupported = columns.flatMap((column) => {
    const why = unsupportedType(column.type, store.capabilities);
    return why ? [{ location: column.location, message: `${label(column)}: type ${oneLine(column.type)}: ${why}.${fix}` }] : [];
  });
  problems.push(...unsupported);
  // The store parses the types only once no family is known to be missing: that message is clearer.
  if (unsupported.length > 0) return { problems, canonical: new Map() };
  const types = await validateColumnTypes(store.client, columns, (c) => `${label(c)}: type ${oneLine(c.type)}`, fix);
  return { problems: [...problems, ...types.problems], canonical: types.canonical };
}

/** A type as one line: the engine spells the types it infers for tuples over several. */
function oneLine(type: string): string {
  return type.replace(/\(\s+/g, '(').replace(/\s+\)/g, ')').replace(/\s+/g, ' ');
}

/** A column name as a message shows it: whole unless it is very long. */
export function shownName(name: string): string {
  return name.length <= 60 ? name : `${name.slice(0, 40)}… (${name.length} characters)`;
}

/**
 * Asks the engine whether every declared type exists, in one query; only when that fails, column by
 * column, so each bad type is reported at its own line.
 */
export async function validateColumnTypes(
  client: ClickHouseClient,
  columns: readonly ColumnSpec[],
  label: (column: ColumnSpec) => string = (c) => `column ${c.name}: type ${c.type}`,
  fix = '',
): Promise<{ problems: ProjectProblem[]; canonical: Map<string, string> }> {
  const canonical = new Map<string, string>();
  if (columns.length === 0) return { problems: [], canonical };
  const probe = (subset: readonly ColumnSpec[]) =>
    selectRows<Record<string, string>>(
      client,
      // An empty array of the type, parsed from text, names it on every server version, composite types included.
      `SELECT ${subset.map((_, i) => `toTypeName(CAST('[]', {t${i}:String})) AS t${i}`).join(', ')}`,
      Object.fromEntries(subset.map((c, i) => [`t${i}`, `Array(${c.type})`])),
    );
  try {
    const row = (await probe(columns))[0] ?? {};
    columns.forEach((c, i) => canonical.set(c.name, row[`t${i}`]?.replace(/^Array\((.*)\)$/s, '$1') ?? c.type));
    return { problems: [], canonical };
  } catch {
    const problems: ProjectProblem[] = [];
    for (const column of columns) {
      try {
        await probe([column]);
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0]!.replace(/: In scope .*$/s, '');
        problems.push({ location: column.location, message: `${label(column)} is not a type the store knows (${reason}).${fix}` });
      }
    }
    return { problems, canonical };
  }
}
