import { describe, expect, it } from 'vitest';
import { closingParenthesis, parenthesesBalanced, scanSql, splitAtCommas, sqlOutsideQuotes } from '../../src/project/sql-scanner.js';

describe('scanSql', () => {
  it('covers every character once, in order', () => {
    const text = "a 'b''c' `d` -- e\n/* f */ \"g\\\"h\"";
    let covered = 0;
    for (const piece of scanSql(text, { comments: true })) {
      const start = piece.kind === 'code' ? piece.index : piece.start;
      expect(start).toBe(covered);
      covered = piece.kind === 'code' ? piece.index + 1 : piece.end;
    }
    expect(covered).toBe(text.length);
  });

  it('says how a quote ended', () => {
    const ends = (text: string, rules = {}) => [...scanSql(text, rules)].flatMap((p) => (p.kind === 'quoted' ? [p.closedBy] : []));
    expect(ends("'a'")).toEqual(['quote']);
    expect(ends("'a\nb")).toEqual(['end-of-text']);
    expect(ends("'a\nb", { quoteEndsAtLineBreak: true })).toEqual(['line-break']);
    // A backslash does not carry a quote over the line break when quotes end there.
    expect(ends("'a\\\nb", { quoteEndsAtLineBreak: true })).toEqual(['line-break']);
  });

  it('reads comments only when asked', () => {
    expect([...scanSql('a -- b')].every((p) => p.kind === 'code')).toBe(true);
    expect([...scanSql('a -- b', { comments: true })].map((p) => p.kind)).toEqual(['code', 'code', 'comment']);
  });
});

describe('sqlOutsideQuotes', () => {
  it('blanks quoted text, quoted identifiers and comments at the same offsets', () => {
    expect(sqlOutsideQuotes("SELECT 'a;b', `x;y` FROM t")).toBe('SELECT      ,       FROM t');
    expect(sqlOutsideQuotes("SELECT 'it''s' -- ; here\n, 1 /* ; */")).toBe('SELECT        ' + ' '.repeat(10) + '\n, 1        ');
    expect(sqlOutsideQuotes("SELECT 'a\\'b;'")).toBe('SELECT ' + ' '.repeat(7));
  });

  it('blanks an unclosed quote or comment to the end', () => {
    expect(sqlOutsideQuotes("SELECT 'a; b")).toBe('SELECT ' + ' '.repeat(5));
    expect(sqlOutsideQuotes('SELECT 1 /* ;')).toBe('SELECT 1 ' + ' '.repeat(4));
    expect(sqlOutsideQuotes("SELECT '\\")).toBe('SELECT   ');
  });
});

describe('closingParenthesis and parenthesesBalanced', () => {
  it('skip parentheses inside quotes', () => {
    expect(closingParenthesis("Enum8('a)' = 1) x", 5)).toBe(14);
    expect(closingParenthesis('Nullable(Array(String)', 8)).toBeUndefined();
    expect(parenthesesBalanced("concat('(', x)")).toBe(true);
    expect(parenthesesBalanced('f(x))(')).toBe(false);
    expect(parenthesesBalanced('f((x)')).toBe(false);
  });
});

describe('splitAtCommas', () => {
  it('splits at commas outside parentheses and quotes', () => {
    expect(splitAtCommas("a Enum8('x,y' = 1), b Map(String, Int8)")).toEqual([
      { start: 0, text: "a Enum8('x,y' = 1)", unterminatedQuote: false },
      { start: 19, text: ' b Map(String, Int8)', unterminatedQuote: false },
    ]);
  });

  it('ends a column at the line break that ends an unclosed quote', () => {
    expect(splitAtCommas("`a String,\n`b` Int8")).toEqual([
      { start: 0, text: '`a String,', unterminatedQuote: true },
      { start: 11, text: '`b` Int8', unterminatedQuote: false },
    ]);
    expect(splitAtCommas("a String DEFAULT 'x")).toEqual([{ start: 0, text: "a String DEFAULT 'x", unterminatedQuote: true }]);
  });

  it('does not let a stray ")" stop later commas from splitting', () => {
    expect(splitAtCommas('a String), b Int8').map((s) => s.text)).toEqual(['a String)', ' b Int8']);
  });
});
