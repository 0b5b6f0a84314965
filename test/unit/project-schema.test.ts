import { describe, it, expect } from 'vitest';
import { lexDatafile } from '../../src/project/lexer.js';
import { parseSchemaBlock } from '../../src/project/schema-block.js';
import { EXAMPLE_SCHEMA_COLUMNS } from '../fixtures/example-project.js';

const FILE = 'datasources/t.datasource';

/** Parses the given column lines as the block of `SCHEMA >` on line 1, so columns start on line 2. */
function schema(...lines: string[]) {
  const { directives, problems } = lexDatafile(['SCHEMA >', ...lines.map((l) => `    ${l}`)].join('\n'), FILE);
  expect(problems).toEqual([]);
  return parseSchemaBlock(directives[0]?.block ?? [], FILE);
}

function columnsOf(...lines: string[]) {
  const result = schema(...lines);
  expect(result.problems).toEqual([]);
  return result.columns.map(({ location, ...rest }) => ({ ...rest, line: location.line }));
}

describe('parseSchemaBlock', () => {
  it('parses the Tinybird example', () => {
    expect(
      columnsOf(...EXAMPLE_SCHEMA_COLUMNS),
    ).toEqual([
      { name: 'timestamp', type: 'DateTime', jsonPath: '$.timestamp', line: 2 },
      { name: 'session_id', type: 'String', jsonPath: '$.session_id', line: 3 },
      { name: 'action', type: 'LowCardinality(String)', jsonPath: '$.action', line: 4 },
      { name: 'payload', type: 'String', jsonPath: '$.payload', line: 5 },
    ]);
  });

  it('sets the file of every column location', () => {
    const { columns } = schema('`a` String');
    expect(columns[0]?.location).toEqual({ file: FILE, line: 2 });
  });

  it('accepts hostile column names', () => {
    const columns = columnsOf(
      '`with space` String,',
      '`$dollar` String,',
      "`it's` String,",
      '`say "hi"` String,',
      '`back``tick` String,',
      '`escaped\\`tick` String,',
      '`back\\\\slash` String,',
      '`naïve 名前 🎉` String,',
      '`a;DROP TABLE x;` String,',
      '`-- not a comment` String,',
      '`/* nor this */` String,',
      '`select` String,',
      'from String,',
      '`a,b(c` String,',
      '`#hash` String,',
      '`json:$.x` String,',
      '`DEFAULT` String,',
      'ünïcode_bare Int8',
    );
    expect(columns.map((c) => c.name)).toEqual([
      'with space',
      '$dollar',
      "it's",
      'say "hi"',
      'back`tick',
      'escaped`tick',
      'back\\slash',
      'naïve 名前 🎉',
      'a;DROP TABLE x;',
      '-- not a comment',
      '/* nor this */',
      'select',
      'from',
      'a,b(c',
      '#hash',
      'json:$.x',
      'DEFAULT',
      'ünïcode_bare',
    ]);
    expect(columns.every((c) => c.type === 'String' || c.type === 'Int8')).toBe(true);
    expect(columns.map((c) => c.line)).toEqual(Array.from({ length: 18 }, (_, i) => i + 2));
  });

  it('keeps nested types whole, with their commas and quoted strings', () => {
    const columns = columnsOf(
      '`m` Map(String, Array(Nullable(Int64))),',
      "`t` DateTime64(3, 'UTC') `json:$.t`,",
      "`e` Enum8('a' = 1, 'b' = 2),",
      "`tricky` Enum8('a,b)' = 1, 'it''s' = 2, 'c\\'d' = 3),",
      '`d` Decimal(10, 2),',
      '`tup` Tuple(a String, b Array(Tuple(c Int32, d Float64))),',
      '`spaced` Nullable( String ) `json:$.s`',
    );
    expect(columns.map((c) => c.type)).toEqual([
      'Map(String, Array(Nullable(Int64)))',
      "DateTime64(3, 'UTC')",
      "Enum8('a' = 1, 'b' = 2)",
      "Enum8('a,b)' = 1, 'it''s' = 2, 'c\\'d' = 3)",
      'Decimal(10, 2)',
      'Tuple(a String, b Array(Tuple(c Int32, d Float64)))',
      'Nullable( String )',
    ]);
    expect(columns[1]?.jsonPath).toBe('$.t');
    expect(columns[6]?.jsonPath).toBe('$.s');
  });

  it('reads a type written over several lines', () => {
    const columns = columnsOf('`m` Map(', '  String,', '  Array(Int64)', ') `json:$.m`,', '`n` UInt8');
    expect(columns).toEqual([
      { name: 'm', type: 'Map( String, Array(Int64) )', jsonPath: '$.m', line: 2 },
      { name: 'n', type: 'UInt8', line: 6 },
    ]);
  });

  it('reads json paths with or without backticks, and DEFAULT expressions up to the comma', () => {
    const columns = columnsOf(
      '`a` String json:$.a.b,',
      '`b` String `json:$.list[:]`,',
      "`c` String `json:$.c` DEFAULT concat('x, y', toString(1)),",
      '`d` DateTime default now(),',
      "`e` String DEFAULT 'a # b',",
      '`f` Int64 DEFAULT (1 + 2) * 3',
    );
    expect(columns).toEqual([
      { name: 'a', type: 'String', jsonPath: '$.a.b', line: 2 },
      { name: 'b', type: 'String', jsonPath: '$.list[:]', line: 3 },
      { name: 'c', type: 'String', jsonPath: '$.c', defaultExpression: "concat('x, y', toString(1))", line: 4 },
      { name: 'd', type: 'DateTime', defaultExpression: 'now()', line: 5 },
      { name: 'e', type: 'String', defaultExpression: "'a # b'", line: 6 },
      { name: 'f', type: 'Int64', defaultExpression: '(1 + 2) * 3', line: 7 },
    ]);
  });

  it('accepts several columns on one line and a trailing comma', () => {
    const columns = columnsOf('`a` String, `b` Int32,', '`c` Float64,');
    expect(columns.map((c) => [c.name, c.line])).toEqual([
      ['a', 2],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('reports a missing type at the line of the column', () => {
    const { problems, columns } = schema('`a` String,', '`b` `json:$.b`,', '`c`,', '`d` DEFAULT 1');
    expect(problems).toEqual([
      { location: { file: FILE, line: 3 }, message: 'column "b" has no type: write its ClickHouse type after the name, e.g. String or Nullable(Int64)' },
      { location: { file: FILE, line: 4 }, message: 'column "c" has no type: write its ClickHouse type after the name, e.g. String or Nullable(Int64)' },
      { location: { file: FILE, line: 5 }, message: 'column "d" has no type: write its ClickHouse type after the name, e.g. String or Nullable(Int64)' },
    ]);
    expect(columns.map((c) => c.name)).toEqual(['a']);
  });

  it('reports unbalanced parentheses at the line of the column', () => {
    expect(schema('`a` String,', '`b` Array(Nullable(String)', '').problems).toEqual([
      { location: { file: FILE, line: 3 }, message: 'column "b": the parentheses of the type are unbalanced: close every "(" with ")"' },
    ]);
    expect(schema('`a` Array(String)),', '`b` String').problems).toEqual([
      { location: { file: FILE, line: 2 }, message: 'column "a": the parentheses of the type are unbalanced: remove the extra ")"' },
    ]);
    const extraClose = schema('`a` String,', '`b` String DEFAULT f(x)),', '`c` String');
    expect(extraClose.problems).toEqual([
      { location: { file: FILE, line: 3 }, message: 'column "b": the parentheses of the DEFAULT expression are unbalanced' },
    ]);
    // The stray ")" does not swallow the next column.
    expect(extraClose.columns.map((c) => c.name)).toEqual(['a', 'c']);
  });

  it('reports a duplicate column at its second line, case-sensitively', () => {
    const { problems, columns } = schema('`id` String,', '`ID` String,', '`x` Int8,', 'id UInt64');
    expect(problems).toEqual([
      { location: { file: FILE, line: 5 }, message: 'column "id" is defined twice (first on line 2): rename or remove one' },
    ]);
    expect(columns.map((c) => c.name)).toEqual(['id', 'ID', 'x']);
  });

  it('reports a json path that does not start with $', () => {
    const { problems } = schema('`a` String `json:a.b`,', '`b` String json:,', '`c` String `json:$.c`');
    expect(problems).toEqual([
      { location: { file: FILE, line: 2 }, message: 'column "a": the json path "a.b" must start with $, e.g. `json:$.a.b`' },
      { location: { file: FILE, line: 3 }, message: 'column "b": the json path "" must start with $, e.g. `json:$.a.b`' },
    ]);
  });

  it('reports every other malformed column with its line', () => {
    const { problems } = schema(
      '`a String,',
      '`b` String',
      '`c` String,',
      ',',
      '`` String,',
      '`d` String DEFAULT,',
      '`e` String CODEC(ZSTD(1)),',
      '`f` String DEFAULT 1 `json:$.f`,',
      '`g`String,',
      '1bad String,',
      '`h` 42',
    );
    expect(problems.map((p) => [p.location.line, p.message])).toEqual([
      [2, 'a quote or backtick is not closed on this line: close it'],
      [3, 'column "b": unexpected "`c` String" after the type; only `json:$.path` and DEFAULT may follow it, and each column must end with a comma'],
      [5, 'empty column definition: remove the extra comma'],
      [6, 'a column name is empty: write a name between the backticks'],
      [7, 'column "d": DEFAULT needs an expression after it'],
      [8, 'column "e": unexpected "CODEC(ZSTD(1))" after the type; only `json:$.path` and DEFAULT may follow it, and each column must end with a comma'],
      [9, 'column "f": write the json path before DEFAULT, not after it'],
      [10, 'column "g": expected a space after the name, found "String"'],
      [11, 'expected a column name, found "1bad String": write names in backticks, e.g. `my column` String'],
      [12, 'column "h": expected a ClickHouse type, found "42"'],
    ]);
  });

  it('reports a block without columns', () => {
    expect(parseSchemaBlock([{ text: '', line: 3 }], FILE).problems).toEqual([
      {
        location: { file: FILE, line: 3 },
        message: 'SCHEMA has no columns: list them on the indented lines below SCHEMA >, or remove SCHEMA to infer them',
      },
    ]);
  });

  it('reads a CRLF file with a byte order mark like any other', () => {
    const text = '\uFEFFSCHEMA >\r\n    `a` String `json:$.a`,\r\n    `b` Map(String, Int8)\r\n';
    const block = lexDatafile(text, FILE).directives[0]?.block ?? [];
    const { columns, problems } = parseSchemaBlock(block, FILE);
    expect(problems).toEqual([]);
    expect(columns.map((c) => [c.name, c.type, c.jsonPath, c.location.line])).toEqual([
      ['a', 'String', '$.a', 2],
      ['b', 'Map(String, Int8)', undefined, 3],
    ]);
  });
});
