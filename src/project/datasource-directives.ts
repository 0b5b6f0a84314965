/** The catalog of `.datasource` directives: which exist, and how each may be written. */

export const ENGINE_KEY_DIRECTIVES = [
  'ENGINE_PARTITION_KEY',
  'ENGINE_SORTING_KEY',
  'ENGINE_PRIMARY_KEY',
  'ENGINE_TTL',
  'ENGINE_SETTINGS',
  'ENGINE_SHARDING_KEY',
] as const;
export const ENGINE_ARG_DIRECTIVES = ['ENGINE_VER', 'ENGINE_SIGN', 'ENGINE_IS_DELETED'] as const;
export type EngineArgDirective = (typeof ENGINE_ARG_DIRECTIVES)[number];
export const IMPORT_DIRECTIVES = [
  'IMPORT_SERVICE',
  'IMPORT_CONNECTION_NAME',
  'IMPORT_BUCKET_URI',
  'IMPORT_SCHEDULE',
  'IMPORT_STRATEGY',
  'IMPORT_FORMAT',
  'IMPORT_MAX_FILES_PER_RUN',
  'IMPORT_CSV_HEADER',
] as const;
export const EXPORT_DIRECTIVES = [
  'EXPORT_CONNECTION_NAME',
  'EXPORT_BUCKET_URI',
  'EXPORT_FILE_TEMPLATE',
  'EXPORT_FORMAT',
  'EXPORT_COMPRESSION',
  'EXPORT_PARQUET_COMPRESSION',
  'EXPORT_PARQUET_ROW_GROUP_SIZE',
  'EXPORT_CSV_DELIMITER',
  'EXPORT_CSV_HEADER',
  'EXPORT_COLUMN_CASE',
  'EXPORT_MAX_ROWS_PER_FILE',
  'EXPORT_QUERY',
  'EXPORT_SCHEDULE',
  'EXPORT_STRATEGY',
  'EXPORT_WRITE_EMPTY',
  'EXPORT_SSE',
  'EXPORT_SSE_KMS_KEY_ID',
  'EXPORT_ACL',
  'EXPORT_TEST_WRITE',
] as const;
export const KNOWN_DIRECTIVES: readonly string[] = [
  'DESCRIPTION',
  'TOKEN',
  'SCHEMA',
  'ENGINE',
  ...ENGINE_KEY_DIRECTIVES,
  ...ENGINE_ARG_DIRECTIVES,
  ...IMPORT_DIRECTIVES,
  ...EXPORT_DIRECTIVES,
];
/** Directives that may be written as a `>` block (besides DESCRIPTION and SCHEMA). */
export const BLOCK_DIRECTIVES: ReadonlySet<string> = new Set(['EXPORT_QUERY']);
/** Directives whose value may contain `{{ }}`, as placeholders of their own. */
export const TEMPLATE_DIRECTIVES: ReadonlySet<string> = new Set(['EXPORT_FILE_TEMPLATE']);
/** Tinybird files commonly grant several tokens. */
export const REPEATABLE: ReadonlySet<string> = new Set(['TOKEN']);

export function unknownDirectiveMessage(name: string): string {
  if (name.startsWith('EXPORT_')) return `unknown directive ${name}: the EXPORT_* settings are ${EXPORT_DIRECTIVES.join(', ')}`;
  return `unknown directive ${name}: a datasource file may only set ${KNOWN_DIRECTIVES.join(', ')}`;
}

/** The first line any of `directives` is written on; undefined when the file writes none of them. */
export function firstLineOf(byName: ReadonlyMap<string, { line: number }>, directives: readonly string[]): number | undefined {
  const lines = directives.map((d) => byName.get(d)?.line).filter((l): l is number => l !== undefined);
  return lines.length > 0 ? Math.min(...lines) : undefined;
}
