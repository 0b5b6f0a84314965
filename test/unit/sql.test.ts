import { describe, it, expect } from 'vitest';
import { identifierList, quoteIdentifier, quoteString } from '../../src/store/sql.js';
import { settingsClause } from '../../src/store/queries.js';

describe('quoteIdentifier', () => {
  it('wraps plain names in backticks', () => {
    expect(quoteIdentifier('events')).toBe('`events`');
    expect(quoteIdentifier('my column')).toBe('`my column`');
    expect(quoteIdentifier('ü')).toBe('`ü`');
    expect(quoteIdentifier('')).toBe('``');
  });

  it('escapes backticks and backslashes', () => {
    expect(quoteIdentifier('a`b')).toBe('`a\\`b`');
    expect(quoteIdentifier('a\\b')).toBe('`a\\\\b`');
    expect(quoteIdentifier('\\`')).toBe('`\\\\\\``');
  });

  it('leaves single quotes alone inside an identifier', () => {
    expect(quoteIdentifier("it's")).toBe("`it's`");
  });

  it('escapes control characters', () => {
    expect(quoteIdentifier('a\nb')).toBe('`a\\nb`');
    expect(quoteIdentifier('a\rb')).toBe('`a\\rb`');
    expect(quoteIdentifier('a\tb')).toBe('`a\\tb`');
    expect(quoteIdentifier('a\0b')).toBe('`a\\0b`');
  });

  it('never leaves an unescaped backtick or a raw newline inside', () => {
    const quoted = quoteIdentifier('x` ; DROP TABLE t; --\n`');
    const inner = quoted.slice(1, -1);
    expect(inner).not.toMatch(/(^|[^\\])`/);
    expect(inner).not.toContain('\n');
  });
});

describe('quoteString', () => {
  it('wraps text in single quotes', () => {
    expect(quoteString('abc')).toBe("'abc'");
    expect(quoteString('')).toBe("''");
  });

  it('escapes quotes, backslashes and control characters', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('C:\\dir')).toBe("'C:\\\\dir'");
    expect(quoteString('a\nb\rc\td\0e')).toBe("'a\\nb\\rc\\td\\0e'");
  });

  it('leaves backticks and double quotes alone inside a string', () => {
    expect(quoteString('a`b"c')).toBe("'a`b\"c'");
  });

  it('keeps non-ASCII text, including astral characters, as is', () => {
    expect(quoteString('héllo 🚀')).toBe("'héllo 🚀'");
  });
});

describe('identifierList', () => {
  it('joins quoted identifiers with commas', () => {
    expect(identifierList(['a', 'b c', 'd`e'])).toBe('`a`, `b c`, `d\\`e`');
  });

  it('is empty for no names', () => {
    expect(identifierList([])).toBe('');
  });
});

describe('settingsClause', () => {
  it('is empty for no settings', () => {
    expect(settingsClause({})).toBe('');
  });

  it('writes numbers bare and strings quoted, with a leading space', () => {
    expect(settingsClause({ max_threads: 4 })).toBe(' SETTINGS max_threads = 4');
    expect(settingsClause({ format_csv_delimiter: ';', input_format_allow_errors_num: 0, max_execution_time: 1.5 })).toBe(
      " SETTINGS format_csv_delimiter = ';', input_format_allow_errors_num = 0, max_execution_time = 1.5",
    );
  });

  it('escapes string values', () => {
    expect(settingsClause({ format_custom_field_delimiter: '\t' })).toBe(" SETTINGS format_custom_field_delimiter = '\\t'");
    expect(settingsClause({ format_csv_delimiter: "'" })).toBe(" SETTINGS format_csv_delimiter = '\\''");
    expect(settingsClause({ format_custom_row_after_delimiter: '\n' })).toBe(" SETTINGS format_custom_row_after_delimiter = '\\n'");
    expect(settingsClause({ x: '\\' })).toBe(" SETTINGS x = '\\\\'");
    expect(settingsClause({ x: '' })).toBe(" SETTINGS x = ''");
  });

  it('rejects names that are not plain lower-case identifiers', () => {
    for (const name of ['Max_threads', '1a', 'a-b', 'a b', 'x = 1, y', 'a;DROP TABLE t', '']) {
      expect(() => settingsClause({ [name]: 1 }), name).toThrow(`invalid setting name ${name}`);
    }
  });

  it('accepts names with digits and underscores', () => {
    expect(settingsClause({ _x1: 'y', s3_max_connections: 8 })).toBe(" SETTINGS _x1 = 'y', s3_max_connections = 8");
  });
});
