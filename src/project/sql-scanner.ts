/**
 * The one quote-aware reader of SQL-like text in datafiles (SCHEMA columns, DEFAULT expressions,
 * EXPORT_QUERY): it tells the characters that count from those inside quotes ('…', "…", `…`) and,
 * when asked, comments. A backslash escapes the next character; a doubled quote stays inside.
 */

export interface ScanRules {
  /**
   * A quote left open ends at the line break (which is not part of it): a SCHEMA column is written
   * on its lines, so an unclosed quote must not swallow the columns below. A backslash does not
   * escape the line break then.
   */
  quoteEndsAtLineBreak?: boolean;
  /** `-- …` to the end of the line and `/* … *\/` are comments. */
  comments?: boolean;
}

export type Piece =
  /** A character outside quotes and comments. */
  | { kind: 'code'; index: number; char: string }
  /** A quoted run from its opening quote to `end` (exclusive), and how it ended. */
  | { kind: 'quoted'; start: number; end: number; closedBy: 'quote' | 'line-break' | 'end-of-text' }
  | { kind: 'comment'; start: number; end: number };

const QUOTES = new Set(["'", '"', '`']);

/** The pieces of `text` from `from` on, in order; together they cover every character. */
export function* scanSql(text: string, rules: ScanRules = {}, from = 0): Generator<Piece> {
  let i = from;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (QUOTES.has(c)) {
      const quoted = quotedRun(text, i, c, rules);
      yield quoted;
      i = quoted.end;
    } else if (rules.comments && c === '-' && text[i + 1] === '-') {
      const lineEnd = text.indexOf('\n', i);
      const end = lineEnd === -1 ? text.length : lineEnd;
      yield { kind: 'comment', start: i, end };
      i = end;
    } else if (rules.comments && c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close === -1 ? text.length : close + 2;
      yield { kind: 'comment', start: i, end };
      i = end;
    } else {
      yield { kind: 'code', index: i, char: c };
      i += 1;
    }
  }
}

function quotedRun(text: string, start: number, quote: string, rules: ScanRules): Piece & { kind: 'quoted' } {
  let j = start + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\n' && rules.quoteEndsAtLineBreak) return { kind: 'quoted', start, end: j, closedBy: 'line-break' };
    if (c === '\\' && !(rules.quoteEndsAtLineBreak && text[j + 1] === '\n')) j += 2;
    else if (c === quote && text[j + 1] === quote) j += 2;
    else if (c === quote) return { kind: 'quoted', start, end: j + 1, closedBy: 'quote' };
    else j += 1;
  }
  return { kind: 'quoted', start, end: text.length, closedBy: 'end-of-text' };
}

/** The SQL with quoted text (the quotes too) and comments blanked out, at the same offsets. */
export function sqlOutsideQuotes(sql: string): string {
  let out = '';
  for (const piece of scanSql(sql, { comments: true })) {
    out += piece.kind === 'code' ? piece.char : ' '.repeat(piece.end - piece.start);
  }
  return out;
}

/** Index of the ")" closing the "(" at `open`, skipping quoted text; undefined if never closed. */
export function closingParenthesis(text: string, open: number): number | undefined {
  let depth = 0;
  for (const piece of scanSql(text, {}, open)) {
    if (piece.kind !== 'code') continue;
    if (piece.char === '(') depth += 1;
    else if (piece.char === ')') {
      depth -= 1;
      if (depth === 0) return piece.index;
    }
  }
  return undefined;
}

/** Whether every "(" outside quotes is closed, and no ")" comes before its "(". */
export function parenthesesBalanced(text: string): boolean {
  let depth = 0;
  for (const piece of scanSql(text)) {
    if (piece.kind !== 'code') continue;
    if (piece.char === '(') depth += 1;
    else if (piece.char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

export interface Segment {
  /** Offset of the segment in the text. */
  start: number;
  text: string;
  /** A quote in it was left open, at a line break or at the end of the text. */
  unterminatedQuote: boolean;
}

/**
 * Splits at commas outside parentheses, quotes and backticks. Quotes end at a line break, which
 * also ends the segment: the comma that ended it was probably swallowed by the quote.
 */
export function splitAtCommas(text: string): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  let depth = 0;
  let openAtEnd = false;
  for (const piece of scanSql(text, { quoteEndsAtLineBreak: true })) {
    if (piece.kind === 'quoted') {
      if (piece.closedBy === 'line-break') {
        segments.push({ start, text: text.slice(start, piece.end), unterminatedQuote: true });
        start = piece.end + 1;
        depth = 0;
      }
      openAtEnd = piece.closedBy === 'end-of-text';
      continue;
    }
    if (piece.kind !== 'code') continue;
    if (piece.char === '(') depth += 1;
    // A stray ")" must not stop later commas from splitting; the column parser reports it.
    else if (piece.char === ')') depth = Math.max(0, depth - 1);
    else if (piece.char === ',' && depth === 0) {
      segments.push({ start, text: text.slice(start, piece.index), unterminatedQuote: false });
      start = piece.index + 1;
    }
  }
  segments.push({ start, text: text.slice(start), unterminatedQuote: openAtEnd });
  return segments;
}
