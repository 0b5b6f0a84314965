import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROW_INSERT_SETTINGS } from '../../src/importer/commit.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { openLocalEngine, type LocalEngine } from '../../src/store/local-engine.js';
import { runStatement, selectRows } from '../../src/store/queries.js';
import { rowFormatOf, type RowFormat } from '../../src/store/server-capabilities.js';
import { readFromServer, shipToServer } from '../../src/store/server-rows.js';
import { identifierList, quoteIdentifier } from '../../src/store/sql.js';
import { freshServerDatabase } from '../helpers/embedded.js';

/**
 * Every type bucketpipe puts in a server's tables (what ClickHouse 18.16 can hold: column-checks.ts
 * refuses the rest), shipped from the worker's engine to the server and read back, at the edges of
 * their ranges: rows read back from the server equal the source.
 */
const ODD_NAME = "odd `name`\t'quoted' \"x\" ü";
const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['id', 'UInt32'],
  ['i8', 'Int8'],
  ['i64', 'Int64'],
  ['u64', 'UInt64'],
  ['f32', 'Float32'],
  ['f64', 'Float64'],
  ['d', 'Decimal(18, 4)'],
  ['d38', 'Decimal(38, 10)'],
  ['s', 'String'],
  ['ns', 'Nullable(String)'],
  ['fs', 'FixedString(4)'],
  ['dt', 'Date'],
  ['ts', 'DateTime'],
  ['tsu', "DateTime('UTC')"],
  ['u', 'UUID'],
  ['en', "Enum8('a' = 1, 'b' = 2)"],
  ['arr', 'Array(String)'],
  ['ani', 'Array(Nullable(Int32))'],
  ['ni', 'Nullable(Int64)'],
  ['nd', 'Nullable(Decimal(9, 2))'],
  ['aa', 'Array(Array(Int32))'],
  ['lc', 'LowCardinality(String)'],
  ['lcn', 'LowCardinality(Nullable(String))'],
  ['nf', 'Nullable(Float64)'],
  ['ndt', 'Nullable(DateTime)'],
  ['sparse', 'String'],
  ['u16', 'UInt16'],
  ['e16', "Enum16('x' = -1000, 'y' = 1000)"],
  [ODD_NAME, 'String'],
];
const NAMES = COLUMNS.map(([name]) => name);
const DDL = COLUMNS.map(([name, type]) => `${quoteIdentifier(name)} ${type}`).join(', ');
const TAG = "import-1 it's\ta\\tag\n";

/** Edge rows, one per line, in the order of COLUMNS. */
const EDGES = String.raw`
 (1, -128, -9223372036854775808, 0, -3.4028235e38, -1.7976931348623157e308, -99999999999999.9999, -9999999999999999999999999999.9999999999, '', NULL, 'ab\0\0', '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00', '00000000-0000-0000-0000-000000000000', 'a', [], [], NULL, NULL, [], '', NULL, NULL, NULL, '', 0, 'x', ''),
 (2, 127, 9223372036854775807, 18446744073709551615, 1.17549435e-38, 5e-324, 99999999999999.9999, 9999999999999999999999999999.9999999999, 'tab\there\nnew line\\back\\slash\r cr', '', 'éé', '2105-12-31', '2106-02-07 06:28:15', '2106-02-07 06:28:15', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'b', ['', 'a\tb', 'NULL', '\\N'], [NULL, 1, -2147483648, 2147483647], 0, 0, [[], [1, 2], []], 'x\ny', '', nan, '2024-02-29 12:34:56', 'x', 65535, 'y', '\t\n\\'),
 (3, 0, 0, 1, 0, -0., 0.0001, 0.0000000001, '日本語 🎉 \'quote\' "dq"', '\\N', 'abcd', '2024-02-29', '2000-01-01 00:00:00', '2024-06-30 23:59:59', '123e4567-e89b-12d3-a456-426614174000', 'a', ['ü', '\n'], [NULL], -1, -1234567.89, [[-1]], 'lc', 'v', inf, NULL, '', 1, 'x', 'NULL'),
 (4, 1, 1, 2, nan, -inf, 0, 0, 'NULL', 'null', '\0\0\0\0', '2038-01-19', '2038-01-19 03:14:08', '1999-12-31 23:59:59', '01234567-89ab-cdef-0123-456789abcdef', 'b', ['\0'], [0], NULL, 1234567.89, [[0], [0]], 'lc', 'v', -inf, '1970-01-01 00:00:01', '', 2, 'y', '\\N')`;

/** Generated rows: every value of a row follows from its number; one column almost all empty (stored sparse). */
const GENERATED = `SELECT 100 + number, number % 256 - 128, number * 1000003 - 5000000000, number * 7, number / 3, number / 7, number / 100, number / 1000,
  toString(number), if(number % 3 = 0, NULL, concat('v', toString(number))), 'abcd', toDate('2020-01-01') + number % 1000,
  toDateTime('2020-01-01 00:00:00') + number * 3607, toDateTime('2020-01-01 00:00:00', 'UTC') + number, generateUUIDv4(), if(number % 2 = 0, 'a', 'b'),
  [toString(number), ''], [if(number % 5 = 0, NULL, toInt32(number))], if(number % 4 = 0, NULL, number), if(number % 4 = 0, NULL, number / 100),
  [[number]], toString(number % 10), if(number % 7 = 0, NULL, toString(number % 3)), number / 9,
  if(number % 3 = 0, NULL, toDateTime('2020-01-01 00:00:00') + number), if(number % 1000 = 0, 'rare', ''), number % 65536, if(number % 2 = 0, 'x', 'y'),
  concat('odd\t', toString(number))
  FROM numbers(20000)`;

describe('the row format a server is given', () => {
  it('is the best one it both reads and writes, TabSeparated when its formats are unknown', () => {
    const all = (input: boolean) => ['Native', 'RowBinary', 'TabSeparated'].map((name) => ({ name, input, output: true }));
    expect(rowFormatOf(all(true))).toBe('Native');
    expect(rowFormatOf([{ name: 'Native', input: false, output: true }, { name: 'RowBinary', input: true, output: true }])).toBe('RowBinary');
    expect(rowFormatOf(all(false))).toBe('TabSeparated');
    expect(rowFormatOf(undefined)).toBe('TabSeparated');
  });
});

describe.each<[RowFormat]>([['Native'], ['RowBinary'], ['TabSeparated']])('rows between the worker engine and ClickHouse 18.16 as %s', (format) => {
  let store: Store;
  let engine: LocalEngine;
  let dataDir: string;
  const table = `row_formats_${format.toLowerCase()}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-rows-'));
    store = await createStore({ clickhouseUrl: await freshServerDatabase(), dataDir });
    engine = openLocalEngine();
    await runStatement(engine.client, `CREATE TABLE src (${DDL}) ENGINE = MergeTree ORDER BY id`);
    await runStatement(engine.client, `INSERT INTO src VALUES ${EDGES}`);
    await runStatement(engine.client, `INSERT INTO src ${GENERATED}`);
    await store.client.command({
      query: `CREATE TABLE ${quoteIdentifier(table)} (${DDL}, tag String) ENGINE = MergeTree ORDER BY id`,
      clickhouse_settings: { allow_experimental_low_cardinality_type: 1 } as Record<string, number>,
    });
  });
  afterAll(async () => {
    await engine?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the probe chooses Native for this server', () => {
    expect(store.capabilities.rowFormat).toBe('Native');
  });

  it('ships every row in one insert, with the constant column, and reads them back equal', async () => {
    const server = { ...store, capabilities: { ...store.capabilities, rowFormat: format } };
    await shipToServer(server, engine, { from: 'src', to: table, columns: NAMES, constant: { column: 'tag', value: TAG }, settings: ROW_INSERT_SETTINGS });
    const [counts] = await selectRows<{ n: string; tags: string; one: string }>(store.client, `SELECT count() AS n, uniqExact(tag) AS tags, any(tag) AS one FROM ${quoteIdentifier(table)}`);
    expect(Number(counts!.n)).toBe(20004);
    expect(Number(counts!.tags)).toBe(1);
    expect(counts!.one).toBe(TAG);

    await readFromServer(server, engine, { sql: `SELECT ${identifierList(NAMES)} FROM ${quoteIdentifier(table)}`, settings: {} }, 'back');
    // Both sides rendered by the same engine: every value must be the same value.
    const render = async (from: string, columns: readonly string[]) =>
      (await (await engine.client.query({ query: `SELECT ${identifierList(columns)} FROM ${from} ORDER BY id`, format: 'TabSeparated' })).text()).split('\n');
    if (format === 'TabSeparated') {
      // Text is the fallback, not exact: the old server's float parser changes 64-bit floats in their
      // last digit and its DateTime text wraps after 2105. The text columns must still come back whole.
      const text = ['id', 's', 'ns', 'fs', 'arr', 'lc', 'lcn', 'sparse', ODD_NAME];
      expect(await render('back', text)).toEqual(await render('src', text));
      return;
    }
    const back = await render('back', NAMES);
    const source = await render('src', NAMES);
    expect(back.length).toBe(20005);
    for (let i = 0; i < source.length; i++) expect(back[i], `row ${i + 1}`).toBe(source[i]);
    // The server holds the last second of DateTime, which its own text shows as 1970.
    const [max] = await selectRows<{ ts: string }>(store.client, `SELECT toUInt32(ts) AS ts FROM ${quoteIdentifier(table)} WHERE id = 2`);
    expect(Number(max!.ts)).toBe(4294967295);
  });
});
