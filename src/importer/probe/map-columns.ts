/**
 * Matches table columns to an object's columns: by exact name, else by name with case and
 * surrounding spaces ignored when that match is unique on both sides (real headers drift).
 * Returns table column → object column.
 */
export function mapColumns(tableColumns: readonly string[], objectColumns: readonly string[]): Map<string, string> {
  const mapping = new Map<string, string>();
  const objectSet = new Set(objectColumns);
  const used = new Set<string>();
  for (const name of tableColumns) {
    if (objectSet.has(name)) {
      mapping.set(name, name);
      used.add(name);
    }
  }
  const loose = (s: string) => s.trim().toLowerCase();
  const objectsByLoose = groupBy(objectColumns.filter((c) => !used.has(c)), loose);
  const tablesByLoose = groupBy(tableColumns.filter((c) => !mapping.has(c)), loose);
  for (const [key, tables] of tablesByLoose) {
    const objects = objectsByLoose.get(key);
    if (tables.length === 1 && objects?.length === 1) mapping.set(tables[0]!, objects[0]!);
  }
  return mapping;
}

/** Object columns that no table column takes. */
export function unmappedColumns(mapping: Map<string, string>, objectColumns: readonly string[]): string[] {
  const taken = new Set(mapping.values());
  return objectColumns.filter((c) => !taken.has(c));
}

function groupBy(items: readonly string[], key: (s: string) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Table columns → object columns for one object. By name when every table column is found so; a
 * CSV object read against a declared SCHEMA is matched by position when it has no header, or when
 * it has as many fields and the names it does share sit at the same places (other names, same
 * layout: a renamed header).
 */
export function mapObjectColumns(
  tableColumns: readonly string[],
  object: { format: string; columns: ReadonlyArray<{ name: string }>; csv?: { hasHeader: boolean } },
  declaredSchema: boolean,
): { mapping: Map<string, string>; byPosition: boolean } {
  const objectColumns = object.columns.map((c) => c.name);
  const mapping = mapColumns(tableColumns, objectColumns);
  const byName = { mapping, byPosition: false };
  if (mapping.size === tableColumns.length || !declaredSchema || object.format !== 'csv' || objectColumns.length === 0) return byName;
  const samePlaces = [...mapping].every(([table, found]) => tableColumns.indexOf(table) === objectColumns.indexOf(found));
  const positional = !object.csv?.hasHeader || (objectColumns.length === tableColumns.length && samePlaces);
  if (!positional) return byName;
  const count = Math.min(tableColumns.length, objectColumns.length);
  return { mapping: new Map(tableColumns.slice(0, count).map((name, i) => [name, objectColumns[i]!])), byPosition: true };
}
