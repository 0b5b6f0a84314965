import { engineFormatOf, importFormat } from '../../formats.js';

const CANDIDATES = [',', ';', '\t', '|'] as const;

/**
 * The delimiter of a CSV file from its first line: the candidate that appears most often outside
 * double quotes. Comma wins ties and lines with none of them (one-column files).
 */
export function sniffDelimiter(firstLine: string): string {
  const counts = new Map<string, number>(CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const c of CANDIDATES) if (counts.get(c)! > counts.get(best)!) best = c;
  return best;
}

/** Engine names for columns of a file without a header: c1, c2, ... */
export function isGenericColumnNames(names: readonly string[]): boolean {
  return names.length > 0 && names.every((n, i) => n === `c${i + 1}`);
}

/**
 * Header names made usable as column names: an empty name becomes `column_N` (its 1-based place),
 * a repeated one gets `_2`, `_3`... Other names are kept exactly.
 */
export function uniqueColumnNames(header: readonly (string | null)[]): string[] {
  const taken = new Set<string>();
  return header.map((raw, i) => {
    const base = raw === null || raw.trim() === '' ? `column_${i + 1}` : raw;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  });
}

/** How a delimited file ends its lines: `\n`, `\r\n` or a lone `\r` (old Mac exports). */
export type LineEnd = '\n' | '\r\n' | '\r';

/**
 * The line end of a file, from its first one outside double quotes in `text` (the start of the file).
 * `complete`: the text is the whole file, so a `\r` that ends it is a lone one. `\n` when there is none.
 */
export function lineEndOf(text: string, complete: boolean): LineEnd {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === '\n') return '\n';
    else if (ch === '\r') {
      if (text[i + 1] === '\n') return '\r\n';
      // A head cut right after a \r cannot tell; the common case is the one that follows.
      return i + 1 < text.length || complete ? '\r' : '\r\n';
    }
  }
  return '\n';
}

/** The engine format and settings that read a delimited file. */
export interface DelimitedFormat {
  format: string;
  settings: Record<string, string | number>;
}

/**
 * The engine's CSV reader refuses a tab delimiter, so tab-separated files go through its custom
 * format with CSV quoting rules (quoted fields may still hold tabs and newlines). Lines may end in
 * `\n`, `\r\n` or a lone `\r`: the CSV reader takes all three with `input_format_csv_allow_cr_end_of_line`
 * (which costs nothing measurable: it only decides what a `\r` the parser meets means), a value in
 * quotes keeping its line breaks; the custom format needs the file's own line end after each row,
 * and with that setting a row that ends otherwise is an error, never a `\r` kept in the last value.
 */
export function delimitedFormat(delimiter: string, hasHeader: boolean, lineEnd: LineEnd = '\n'): DelimitedFormat {
  if (delimiter === '\t') {
    return {
      format: hasHeader ? 'CustomSeparatedWithNames' : 'CustomSeparated',
      settings: {
        format_custom_escaping_rule: 'CSV',
        format_custom_field_delimiter: '\t',
        format_custom_row_before_delimiter: '',
        format_custom_row_after_delimiter: lineEnd,
        format_custom_row_between_delimiter: '',
        format_custom_result_before_delimiter: '',
        format_custom_result_after_delimiter: '',
        input_format_csv_allow_cr_end_of_line: 1,
      },
    };
  }
  return { format: engineFormatOf(importFormat('csv'), hasHeader), settings: { format_csv_delimiter: delimiter, input_format_csv_allow_cr_end_of_line: 1 } };
}

/**
 * How the engine reads the fields of a delimited object by position: the header row, when there is
 * one, is skipped rather than matched by name, so repeated or empty header names cannot break a read.
 */
export function positionalRead(delimiter: string, hasHeader: boolean, fieldCount: number, lineEnd: LineEnd = '\n'): DelimitedFormat & { structure: string } {
  const delimited = delimitedFormat(delimiter, hasHeader, lineEnd);
  return {
    format: delimited.format,
    structure: Array.from({ length: fieldCount }, (_, i) => `${fieldColumn(i)} Nullable(String)`).join(', '),
    settings: {
      ...delimited.settings,
      input_format_with_names_use_header: 0,
      input_format_csv_detect_header: 0,
      input_format_custom_detect_header: 0,
    },
  };
}

/**
 * Whether a raw value holds a line break of the file, as SQL over the value `v`: a quote never closed
 * takes in every line after it as one value, so only the split may load such a value. A file whose
 * lines end in a lone `\r` is checked for `\r` as well; other files' line breaks all hold a `\n`,
 * and one search per value is what the common file pays.
 */
export function holdsLineBreak(v: string, lineEnd: LineEnd = '\n'): string {
  const lf = `position(${v}, '\\n') > 0`;
  return lineEnd === '\r' ? `(${lf} OR position(${v}, '\\r') > 0)` : lf;
}

/** The name of the i-th field (0-based) in a positional read. */
export function fieldColumn(index: number): string {
  return `_bp_f${index}`;
}

/**
 * The fields of one CSV line, quotes removed (`""` inside quotes is one quote). Undefined when a
 * quote is left open: the line then continues past its end, and only the engine can read it.
 */
export function splitCsvLine(line: string, delimiter: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/**
 * The header names of a first line that names only columns the table already has, each once: such
 * a line is a header for certain, and no type needs inferring. Undefined otherwise.
 */
export function headerOfKnownColumns(firstLine: string, delimiter: string, known: readonly string[]): string[] | undefined {
  const names = splitCsvLine(firstLine.replace(/^\uFEFF/, ''), delimiter);
  if (!names || names.length === 0) return undefined;
  const knownNames = new Set(known);
  if (new Set(names).size !== names.length || !names.every((n) => knownNames.has(n))) return undefined;
  return names;
}
