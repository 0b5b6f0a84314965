import type { ProjectProblem } from './types.js';

/** One line of a `NAME >` block, without the block's common indentation. */
export interface BlockLine {
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

/** One `NAME value` or `NAME >` directive of a datafile. */
export interface Directive {
  name: string;
  /** The value, unquoted if it was one double-quoted string; `''` for a block. */
  value: string;
  /** 1-based line of the directive name. */
  line: number;
  /** Present for `NAME >`: the indented lines that follow (interior blank lines kept as `''`). */
  block?: BlockLine[];
  /** A `# comment` was cut from the end of the directive's line (a value that may hold `#` must know). */
  commentCut?: boolean;
}

export interface LexResult {
  directives: Directive[];
  problems: ProjectProblem[];
}

const DIRECTIVE_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Splits a Tinybird-style datafile into directives.
 * Never throws: malformed lines become problems and lexing continues with the next line.
 */
export function lexDatafile(text: string, file: string): LexResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = source.split(/\r\n|\r|\n/);
  const directives: Directive[] = [];
  const problems: ProjectProblem[] = [];
  const problem = (line: number, message: string): void => {
    problems.push({ location: { file, line }, message });
  };

  let i = 0;
  while (i < lines.length) {
    const raw = lines[i] ?? '';
    const lineNumber = i + 1;
    i += 1;
    const kept = stripComment(raw);
    const content = kept.trim();
    if (content === '') continue;

    const match = /^(\S+)(?:\s+(.*))?$/.exec(content);
    const word = match?.[1] ?? content;
    const rest = (match?.[2] ?? '').trim();
    if (!DIRECTIVE_NAME.test(word)) {
      problem(lineNumber, badNameMessage(word, /^[ \t]/.test(raw)));
      continue;
    }

    if (rest.startsWith('>')) {
      if (rest !== '>') {
        problem(lineNumber, `nothing may follow ">" on the line of ${word}: put the text on the indented lines below`);
      }
      const block: BlockLine[] = [];
      while (i < lines.length) {
        const blockRaw = lines[i] ?? '';
        const blockContent = stripComment(blockRaw).trimEnd();
        // Comment-only lines neither end a block nor belong to it.
        if (blockContent.trim() === '' && blockRaw.trim() !== '') {
          i += 1;
          continue;
        }
        if (blockContent !== '' && !/^[ \t]/.test(blockContent)) break;
        block.push({ text: blockContent, line: i + 1 });
        i += 1;
      }
      while (block.length > 0 && block[block.length - 1]?.text === '') block.pop();
      directives.push({ name: word, value: '', line: lineNumber, block: dedent(block) });
      continue;
    }

    const unquoted = unquote(rest);
    if (unquoted.unterminated) {
      problem(lineNumber, `the value of ${word} starts with a double quote that is never closed: add the closing "`);
    }
    const commentCut = kept.trimEnd() !== raw.trimEnd();
    directives.push({ name: word, value: unquoted.value, line: lineNumber, ...(commentCut ? { commentCut } : {}) });
  }
  return { directives, problems };
}

/**
 * Indexes directives by name and reports every repeated one (except the `repeatable` names).
 * The first occurrence wins.
 */
export function indexDirectives(
  directives: readonly Directive[],
  file: string,
  repeatable: ReadonlySet<string> = new Set(),
): { byName: Map<string, Directive>; problems: ProjectProblem[] } {
  const byName = new Map<string, Directive>();
  const problems: ProjectProblem[] = [];
  for (const directive of directives) {
    const first = byName.get(directive.name);
    if (first === undefined) {
      byName.set(directive.name, directive);
    } else if (!repeatable.has(directive.name)) {
      problems.push({
        location: { file, line: directive.line },
        message: `${directive.name} is set twice (first on line ${first.line}): keep only one`,
      });
    }
  }
  return { byName, problems };
}

/**
 * Removes a `#` comment from a line. `#` starts a comment at the start of the line or after
 * whitespace, but not inside "...", '...', `...` or {{ ... }}.
 */
export function stripComment(line: string): string {
  let cut = commentStart(line, true);
  // An apostrophe in prose ("it's") would otherwise hide a real comment behind it.
  if (cut === 'open-single-quote') cut = commentStart(line, false);
  return cut === 'open-single-quote' ? line : line.slice(0, cut).trimEnd();
}

function commentStart(line: string, trackSingleQuotes: boolean): number | 'open-single-quote' {
  let quote: string | null = null;
  let inTemplate = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (inTemplate) {
      if (c === '}' && line[i + 1] === '}') {
        inTemplate = false;
        i += 1;
      }
      continue;
    }
    if (quote !== null) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === '`' || (c === "'" && trackSingleQuotes)) {
      quote = c;
    } else if (c === '{' && line[i + 1] === '{') {
      inTemplate = true;
      i += 1;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return i;
    }
  }
  return quote === "'" ? 'open-single-quote' : line.length;
}

/** Unquotes a value that is exactly one "..." string; any other value is returned as written. */
function unquote(value: string): { value: string; unterminated: boolean } {
  if (!value.startsWith('"')) return { value, unterminated: false };
  for (let i = 1; i < value.length; i += 1) {
    const c = value[i];
    if (c === '\\') {
      i += 1;
    } else if (c === '"') {
      if (i !== value.length - 1) return { value, unterminated: false };
      return { value: value.slice(1, -1).replace(/\\(["\\])/g, '$1'), unterminated: false };
    }
  }
  return { value, unterminated: true };
}

function dedent(block: BlockLine[]): BlockLine[] {
  let indent = Infinity;
  for (const { text } of block) {
    if (text === '') continue;
    indent = Math.min(indent, (/^[ \t]*/.exec(text)?.[0] ?? '').length);
  }
  if (!Number.isFinite(indent)) return block;
  return block.map(({ text, line }) => ({ text: text.slice(indent), line }));
}

function badNameMessage(word: string, indented: boolean): string {
  const shown = JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
  let message = `expected a directive name (an upper-case word such as SCHEMA or IMPORT_BUCKET_URI) at the start of the line, found ${shown}`;
  const upper = word.toUpperCase();
  if (word !== upper && DIRECTIVE_NAME.test(upper)) {
    message += `: directive names are upper-case, write ${upper}`;
  } else if (/^[A-Z][A-Z0-9_]*>$/.test(word)) {
    message += `: put a space before ">", as in ${word.slice(0, -1)} >`;
  } else if (indented) {
    message += ': to write a value on several lines, end the directive line with ">" and indent the lines below it';
  }
  return message;
}
