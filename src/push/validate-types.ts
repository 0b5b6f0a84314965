import type { ClickHouseClient } from '@clickhouse/client';
import type { ColumnSpec, ProjectProblem } from '../project/types.js';
import { selectRows } from '../store/queries.js';

/**
 * Asks the engine whether every declared type exists, in one query; only when that fails, column by
 * column, so each bad type is reported at its own line.
 */
export async function validateColumnTypes(
  client: ClickHouseClient,
  columns: readonly ColumnSpec[],
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
        problems.push({ location: column.location, message: `column ${column.name}: type ${column.type} is not a type the store knows (${reason}).` });
      }
    }
    return { problems, canonical };
  }
}
