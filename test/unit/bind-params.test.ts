import { describe, expect, it } from 'vitest';
import { bindParams, forOldServer, literal } from '../../src/store/bind-params.js';

describe('bindParams', () => {
  it('puts each value into the SQL text as a literal of its declared type', () => {
    expect(bindParams('SELECT {s:String}, {n:UInt64}, {f:Float64}, {a:Array(UInt64)}, {m:Nullable(String)}', { s: "it's", n: 42, f: 1.5, a: [1, 2], m: null })).toBe(
      "SELECT 'it\\'s', 42, 1.5, [1, 2], NULL",
    );
  });

  it('escapes every hostile character of a string', () => {
    const hostile = "a'b\"c\\d\ne\tf\0g`h; DROP TABLE x; -- {y:String}";
    expect(literal(hostile, 'String')).toBe("'a\\'b\"c\\\\d\\ne\\tf\\0g`h; DROP TABLE x; -- {y:String}'");
  });

  it('leaves placeholder-like text inside quotes and backticks alone', () => {
    expect(bindParams("SELECT '{x:String}', `{x:String}`, {x:String}", { x: 'v' })).toBe("SELECT '{x:String}', `{x:String}`, 'v'");
    expect(bindParams("SELECT 'it\\'s {x:String}', {x:String}", { x: 'v' })).toBe("SELECT 'it\\'s {x:String}', 'v'");
    expect(bindParams("SETTINGS f = {'t': 'a = 1'}", {})).toBe("SETTINGS f = {'t': 'a = 1'}");
  });

  it('refuses a missing value, a non-number for a number, a non-array for an array', () => {
    expect(() => bindParams('SELECT {x:String}', {})).toThrow('no value is bound for the query parameter x');
    expect(() => literal('1; DROP', 'UInt64')).toThrow('finite number');
    expect(() => literal('[1]', 'Array(UInt64)')).toThrow('must be an array');
  });

  it('unwraps LowCardinality and nests arrays of strings', () => {
    expect(literal([["a'"], []], 'Array(Array(LowCardinality(String)))')).toBe("[['a\\''], []]");
  });

  it('adapts a client to an old server: bound text instead of parameters, best-effort timestamps on insert', async () => {
    const seen: unknown[] = [];
    const client = { query: async (p: unknown) => seen.push(p), insert: async (p: unknown) => seen.push(p), other: 1 };
    const wrapped = forOldServer(client);
    await wrapped.query({ query: 'SELECT {x:String}', query_params: { x: 'y' }, format: 'JSONEachRow' } as never);
    await wrapped.insert({ table: 't' } as never);
    expect(seen).toEqual([
      { query: "SELECT 'y'", format: 'JSONEachRow' },
      { table: 't', clickhouse_settings: { date_time_input_format: 'best_effort' } },
    ]);
    expect(wrapped.other).toBe(1);
  });
});
