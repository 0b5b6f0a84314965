/**
 * What a ClickHouse server can do, from its version. Thresholds are the releases that made each
 * feature generally available; the embedded engine (a current release) has them all.
 */
export interface ServerCapabilities {
  version: string;
  /** `{name:Type}` placeholders bound by the server (19.11). */
  queryParameters: boolean;
  dateTime64: boolean;
  /** Date32 (21.9): days from 1900 to 2299; Date holds 1970 to 2149. */
  date32: boolean;
  /**
   * The server reads dates after 2105 from text. Measured on connect: 18.16's date library ends with
   * 2105, and it reads `2106-01-01` (a Date or a DateTime) as 0 and `2106-02-07 06:28:15` as
   * `1970-01-01 06:28:15`, though the types hold values up to 2149 and 2106.
   */
  datesAfter2105: boolean;
  bool: boolean;
  map: boolean;
  /** The JSON / Object('json') column types. */
  json: boolean;
  /** LowCardinality without a setting (19.3); before, only with allow_experimental_low_cardinality_type. */
  lowCardinality: boolean;
  ipAddressTypes: boolean;
  parquet: boolean;
  /** ALTER … DELETE can wait for its mutation (`mutations_sync`). */
  mutationsSync: boolean;
  /** Reads of a table can be restricted by a setting (`additional_table_filters`). */
  tableFilters: boolean;
  /** EPHEMERAL columns (22.3): inserted, never stored, readable by other columns' expressions. */
  ephemeralColumns: boolean;
  /**
   * Column files of any name length: a long name gives its files a hash for a name
   * (`replace_long_file_name_to_hash`). Older servers name them after the column, and a name longer
   * than a file name may be breaks every insert.
   */
  longColumnNames: boolean;
  /**
   * The format rows travel in between the worker's engine and the server: the import's ship of its
   * staged rows and the export's read of a run's rows. Binary where the server reads and writes it,
   * TabSeparated otherwise (see `rowFormatOf`).
   */
  rowFormat: RowFormat;
}

/**
 * Formats rows can travel in between the worker's engine and a server, best first. Native and
 * RowBinary carry every value as its bytes: measured against ClickHouse 18.16, TabSeparated text
 * changed 64-bit floats in their last digit (the old server's parser) and wrapped the last second of
 * DateTime, where both binary formats kept every value; and they cost less to write and to read.
 * Native also names each column's type, so a type that differs between the two ends fails loudly.
 */
export type RowFormat = 'Native' | 'RowBinary' | 'TabSeparated';

/** A format as `system.formats` lists it. */
export interface ServerFormat {
  name: string;
  input: boolean;
  output: boolean;
}

/**
 * The best format of `RowFormat` the server both reads and writes; TabSeparated, which every server
 * has, when its list is unknown (`system.formats` is missing on the oldest servers).
 */
export function rowFormatOf(formats: readonly ServerFormat[] | undefined): RowFormat {
  const both = (name: string) => formats?.some((f) => f.name === name && f.input && f.output) ?? false;
  if (both('Native')) return 'Native';
  if (both('RowBinary')) return 'RowBinary';
  return 'TabSeparated';
}

export function capabilitiesOf(
  version: string,
  settings: { lowCardinalityEnabled?: boolean; mutationsSync?: boolean; tableFilters?: boolean; longColumnNames?: boolean; datesAfter2105?: boolean; formats?: readonly ServerFormat[] } = {},
): ServerCapabilities {
  const [major = 0, minor = 0] = version.split('.').map((p) => Number(p));
  const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);
  return {
    version,
    queryParameters: atLeast(19, 11),
    dateTime64: atLeast(20, 1),
    date32: atLeast(21, 9),
    datesAfter2105: settings.datesAfter2105 ?? atLeast(20, 1),
    bool: atLeast(21, 12),
    map: atLeast(21, 8),
    json: atLeast(22, 3),
    lowCardinality: atLeast(19, 3) || Boolean(settings.lowCardinalityEnabled),
    ipAddressTypes: atLeast(19, 3),
    parquet: atLeast(19, 2),
    mutationsSync: settings.mutationsSync ?? atLeast(19, 11),
    tableFilters: settings.tableFilters ?? atLeast(22, 7),
    ephemeralColumns: atLeast(22, 3),
    longColumnNames: settings.longColumnNames ?? atLeast(24, 1),
    rowFormat: rowFormatOf(settings.formats),
  };
}

/** The type families of a type text: `Nullable(Map(String, DateTime64(3)))` → Nullable, Map, String, DateTime64. */
export function typeFamilies(type: string): string[] {
  return [...type.matchAll(/([A-Za-z][A-Za-z0-9_]*)\s*(?=\(|,|\)|$)/g)].map((m) => m[1]!).filter((name) => /^[A-Z]/.test(name));
}

const NEEDS: ReadonlyArray<{ families: readonly string[]; capability: keyof ServerCapabilities; instead: string }> = [
  { families: ['DateTime64'], capability: 'dateTime64', instead: 'DateTime (whole seconds)' },
  { families: ['Date32'], capability: 'date32', instead: 'Date (1970 to 2149), or String' },
  { families: ['Bool', 'Boolean'], capability: 'bool', instead: 'UInt8' },
  { families: ['Map'], capability: 'map', instead: 'String holding JSON, or Nested' },
  { families: ['JSON', 'Object'], capability: 'json', instead: 'String holding JSON' },
  { families: ['LowCardinality'], capability: 'lowCardinality', instead: 'String, or set allow_experimental_low_cardinality_type = 1 in the server profile' },
  { families: ['IPv4', 'IPv6'], capability: 'ipAddressTypes', instead: 'String or UInt32' },
];

/** Why a column type cannot be created on this server, or undefined when it can. */
export function unsupportedType(type: string, capabilities: ServerCapabilities): string | undefined {
  const families = new Set(typeFamilies(type));
  for (const need of NEEDS) {
    const family = need.families.find((f) => families.has(f));
    if (family && !capabilities[need.capability]) {
      return `${family} is not available on ClickHouse ${capabilities.version}; use ${need.instead}`;
    }
  }
  return undefined;
}

/** The longest file name most file systems take. */
const FILE_NAME_BYTES = 255;
/**
 * Room kept for what a column's file names add to its escaped name: `.null.bin`, `.size0.mrk2`,
 * and a tuple element's or a nested array's own part.
 */
const COLUMN_FILE_SUFFIX_BYTES = 16;

/** The longest column name (escaped as the server escapes file names) a server without hashed file names takes. */
export const MAX_COLUMN_NAME_BYTES = FILE_NAME_BYTES - COLUMN_FILE_SUFFIX_BYTES;

/** Why a column name cannot be stored on this server, or undefined when it can. */
export function unstorableColumnName(name: string, capabilities: ServerCapabilities): string | undefined {
  if (capabilities.longColumnNames) return undefined;
  const length = escapedFileNameLength(name);
  if (length <= MAX_COLUMN_NAME_BYTES) return undefined;
  return (
    `the name is too long for ClickHouse ${capabilities.version}, which names a column's files after it: ` +
    `${length} bytes as a file name, at most ${MAX_COLUMN_NAME_BYTES} fit; use a shorter name`
  );
}

/** The server keeps letters, digits and `_` in file names and writes every other byte as `%XX`. */
function escapedFileNameLength(name: string): number {
  let length = 0;
  for (const byte of Buffer.from(name, 'utf8')) length += /[A-Za-z0-9_]/.test(String.fromCharCode(byte)) ? 1 : 3;
  return length;
}
