import type { BlockLine } from './lexer.js';
import { closingParenthesis, parenthesesBalanced, splitAtCommas } from './sql-scanner.js';
import type { ColumnSpec, ProjectProblem } from './types.js';

export interface SchemaResult {
  columns: ColumnSpec[];
  problems: ProjectProblem[];
}

const BARE_NAME = /^[\p{L}_][\p{L}\p{N}_]*/u;
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const DEFAULT_KEYWORD = /^DEFAULT(?=[\s('"]|$)/i;

/**
 * Parses the lines of a `SCHEMA >` block into columns:
 * `` `name` Type `json:$.path` DEFAULT expr `` separated by commas.
 * Every problem points at the line where its column starts.
 */
export function parseSchemaBlock(lines: readonly BlockLine[], file: string): SchemaResult {
  const text = lines.map((l) => l.text).join('\n');
  const lineStarts: number[] = [];
  let offset = 0;
  for (const l of lines) {
    lineStarts.push(offset);
    offset += l.text.length + 1;
  }
  const lineAt = (position: number): number => {
    let index = 0;
    while (index + 1 < lineStarts.length && (lineStarts[index + 1] ?? Infinity) <= position) index += 1;
    return lines[index]?.line ?? 1;
  };

  const columns: ColumnSpec[] = [];
  const problems: ProjectProblem[] = [];
  const firstLineOf = new Map<string, number>();
  const segments = splitAtCommas(text);

  segments.forEach((segment, index) => {
    const leading = segment.text.length - segment.text.trimStart().length;
    const line = lineAt(segment.start + leading);
    const problem = (message: string): void => {
      problems.push({ location: { file, line }, message });
    };
    if (segment.text.trim() === '') {
      // A trailing comma after the last column is harmless.
      if (index === segments.length - 1 && index > 0) return;
      if (segments.length === 1) return;
      problem('empty column definition: remove the extra comma');
      return;
    }
    if (segment.unterminatedQuote) {
      problem('a quote or backtick is not closed on this line: close it');
      return;
    }
    const parsed = parseColumn(segment.text.trim());
    if (parsed.name !== undefined) {
      const first = firstLineOf.get(parsed.name);
      if (first !== undefined) {
        problem(`column ${JSON.stringify(parsed.name)} is defined twice (first on line ${first}): rename or remove one`);
        return;
      }
      firstLineOf.set(parsed.name, line);
    }
    if ('error' in parsed) {
      problem(parsed.error);
      return;
    }
    columns.push({ ...parsed.column, location: { file, line } });
  });

  if (columns.length === 0 && problems.length === 0) {
    problems.push({
      location: { file, line: lines[0]?.line ?? 1 },
      message: 'SCHEMA has no columns: list them on the indented lines below SCHEMA >, or remove SCHEMA to infer them',
    });
  }
  return { columns, problems };
}

type ParsedColumn =
  | { name?: string; error: string }
  | { name: string; column: Omit<ColumnSpec, 'location'> };

function parseColumn(definition: string): ParsedColumn {
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < definition.length && /\s/.test(definition[pos] ?? '')) pos += 1;
  };

  let name: string;
  if (definition[0] === '`') {
    const quoted = readBacktickName(definition);
    if (quoted === undefined) return { error: 'the column name has no closing backtick: close it' };
    name = quoted.name;
    pos = quoted.end;
    if (name === '') return { error: 'a column name is empty: write a name between the backticks' };
  } else {
    const bare = BARE_NAME.exec(definition)?.[0];
    if (bare === undefined) {
      return { error: `expected a column name, found ${snippet(definition)}: write names in backticks, e.g. \`my column\` String` };
    }
    name = bare;
    pos = bare.length;
  }
  const label = `column ${JSON.stringify(name)}`;
  if (pos < definition.length && !/\s/.test(definition[pos] ?? '')) {
    return { name, error: `${label}: expected a space after the name, found ${snippet(definition.slice(pos))}` };
  }

  skipSpace();
  const rest = definition.slice(pos);
  if (rest === '' || rest.startsWith('`') || rest.startsWith('json:') || DEFAULT_KEYWORD.test(rest)) {
    return { name, error: `${label} has no type: write its ClickHouse type after the name, e.g. String or Nullable(Int64)` };
  }
  const typeName = TYPE_NAME.exec(rest)?.[0];
  if (typeName === undefined) {
    return { name, error: `${label}: expected a ClickHouse type, found ${snippet(rest)}` };
  }
  const typeStart = pos;
  pos += typeName.length;
  const afterName = pos;
  skipSpace();
  if (definition[pos] === '(') {
    const close = closingParenthesis(definition, pos);
    if (close === undefined) {
      return { name, error: `${label}: the parentheses of the type are unbalanced: close every "(" with ")"` };
    }
    pos = close + 1;
  } else {
    pos = afterName;
  }
  const type = oneLine(definition.slice(typeStart, pos));

  skipSpace();
  if (definition[pos] === ')') {
    return { name, error: `${label}: the parentheses of the type are unbalanced: remove the extra ")"` };
  }

  let jsonPath: string | undefined;
  if (definition.startsWith('`json:', pos)) {
    // A backtick inside the path (a key that holds one) is written escaped: \`.
    let close = pos + 1;
    while (close < definition.length && definition[close] !== '`') close += definition[close] === '\\' ? 2 : 1;
    if (close >= definition.length) return { name, error: `${label}: the json path has no closing backtick: close it` };
    jsonPath = definition.slice(pos + '`json:'.length, close);
    pos = close + 1;
  } else if (definition.startsWith('json:', pos)) {
    const end = /\s|$/.exec(definition.slice(pos))?.index ?? 0;
    jsonPath = definition.slice(pos + 'json:'.length, pos + end);
    pos += end;
  }
  if (jsonPath !== undefined && !jsonPath.startsWith('$')) {
    return { name, error: `${label}: the json path ${JSON.stringify(jsonPath)} must start with $, e.g. \`json:$.a.b\`` };
  }

  skipSpace();
  let defaultExpression: string | undefined;
  const tail = definition.slice(pos);
  const keyword = DEFAULT_KEYWORD.exec(tail);
  if (keyword !== null) {
    defaultExpression = oneLine(tail.slice(keyword[0].length).trim());
    if (defaultExpression === '') return { name, error: `${label}: DEFAULT needs an expression after it` };
    if (!parenthesesBalanced(defaultExpression)) {
      return { name, error: `${label}: the parentheses of the DEFAULT expression are unbalanced` };
    }
    if (/\s`json:[^`]*`$/.test(defaultExpression)) {
      return { name, error: `${label}: write the json path before DEFAULT, not after it` };
    }
  } else if (tail !== '') {
    return {
      name,
      error: `${label}: unexpected ${snippet(tail)} after the type; only \`json:$.path\` and DEFAULT may follow it, and each column must end with a comma`,
    };
  }

  const column: Omit<ColumnSpec, 'location'> = { name, type };
  if (jsonPath !== undefined) column.jsonPath = jsonPath;
  if (defaultExpression !== undefined) column.defaultExpression = defaultExpression;
  return { name, column };
}

/** Reads `` `name` `` at the start; a backtick inside is written `` `` `` or `` \` ``, a backslash `\\`. */
function readBacktickName(text: string): { name: string; end: number } | undefined {
  let name = '';
  for (let i = 1; i < text.length; i += 1) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '\\' && (next === '`' || next === '\\')) {
      name += next;
      i += 1;
    } else if (c === '`' && next === '`') {
      name += '`';
      i += 1;
    } else if (c === '`') {
      return { name, end: i + 1 };
    } else {
      name += c;
    }
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function snippet(text: string): string {
  const first = text.trim().split('\n')[0] ?? '';
  return JSON.stringify(first.length > 40 ? `${first.slice(0, 40)}…` : first);
}
