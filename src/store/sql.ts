/**
 * The one place that turns names and literal text into SQL. Identifiers that come from project
 * files or from object headers (column names!) always pass through `quoteIdentifier`; values are
 * bound as query parameters everywhere they can be. `quoteString` is only for the places where the
 * engine takes no parameters: type names and expressions stored in DDL (materialized views).
 */

/** Backtick-quotes an identifier; any character is allowed, including backticks and newlines. */
export function quoteIdentifier(name: string): string {
  return '`' + escapeText(name, '`') + '`';
}

/** Single-quotes a literal string for SQL text. */
export function quoteString(value: string): string {
  return "'" + escapeText(value, "'") + "'";
}

function escapeText(text: string, quote: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\0') out += '\\0';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out;
}

/** `a, b, c` from quoted identifiers. */
export function identifierList(names: readonly string[]): string {
  return names.map(quoteIdentifier).join(', ');
}
