/**
 * The benchmark's data: one row shape (8 columns: a timestamp, strings, integers, a float and a JSON
 * document as text), written by the engine from `numbers()`, so every run produces the same bytes.
 */

export const BUCKET = 'bench-data';

export interface BenchColumn {
  name: string;
  type: string;
  /** The value of row `number`, as engine SQL. */
  expression: string;
}

export const COLUMNS: readonly BenchColumn[] = [
  { name: 'ts', type: 'DateTime64(3)', expression: "toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 997)" },
  { name: 'id', type: 'UInt64', expression: 'number + 1' },
  { name: 'user', type: 'String', expression: "concat('user_', toString(cityHash64(number, 1) % 50000))" },
  { name: 'country', type: 'LowCardinality(String)', expression: "['DE','FR','US','GB','ES','IT','NL','SE','PL','BR'][1 + cityHash64(number, 2) % 10]" },
  { name: 'quantity', type: 'Int32', expression: 'toInt32(cityHash64(number, 3) % 2000) - 1000' },
  { name: 'amount', type: 'Float64', expression: '(cityHash64(number, 4) % 10000000) / 100' },
  { name: 'status', type: 'String', expression: "['new','paid','shipped','returned','cancelled'][1 + cityHash64(number, 5) % 5]" },
  {
    name: 'payload',
    type: 'String',
    expression:
      "concat('{\"sku\":\"SKU-', toString(cityHash64(number, 6) % 100000), '\",\"tags\":[\"', ['a','b','c'][1 + number % 3], '\",\"x\"],\"score\":', toString(cityHash64(number, 7) % 1000), '}')",
  },
];

/** `SELECT <columns> FROM numbers(offset, rows)`: the rows numbered offset … offset+rows-1. */
export function rowsQuery(rows: number, offset = 0): string {
  return `SELECT ${COLUMNS.map((c) => `${c.expression} AS ${c.name}`).join(', ')} FROM numbers(${offset}, ${rows})`;
}

/** The columns as a CREATE TABLE body. */
export function columnsDdl(): string {
  return COLUMNS.map((c) => `\`${c.name}\` ${c.type}`).join(', ');
}

/** The SCHEMA block of a `.datasource` file, with JSON paths for NDJSON. */
export function schemaBlock(): string {
  return COLUMNS.map((c) => `    \`${c.name}\` ${c.type} \`json:$.${c.name}\``).join(',\n');
}

export type LargeFormat = 'csv' | 'ndjson.gz' | 'parquet';

export const LARGE_FORMATS: readonly LargeFormat[] = ['csv', 'ndjson.gz', 'parquet'];

/** The key of the large object of `format` at `scale` times the base row count. */
export function largeKey(format: LargeFormat, scale: number): string {
  return `large/x${scale}/rows.${format}`;
}

/** The engine's format name and compression for each file kind. */
export function engineFormat(format: LargeFormat): { format: string; compression: string } {
  if (format === 'csv') return { format: 'CSVWithNames', compression: 'none' };
  if (format === 'ndjson.gz') return { format: 'JSONEachRow', compression: 'gzip' };
  return { format: 'Parquet', compression: 'none' };
}

export const SMALL_PREFIX = 'small/';
export const DISCOVERY_PREFIX = 'discovery/';
