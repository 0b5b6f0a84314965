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

/** The engine format and settings that read a delimited file. */
export interface DelimitedFormat {
  format: string;
  settings: Record<string, string | number>;
}

/**
 * The engine's CSV reader refuses a tab delimiter, so tab-separated files go through its custom
 * format with CSV quoting rules (quoted fields may still hold tabs and newlines).
 */
export function delimitedFormat(delimiter: string, hasHeader: boolean): DelimitedFormat {
  if (delimiter === '\t') {
    return {
      format: hasHeader ? 'CustomSeparatedWithNames' : 'CustomSeparated',
      settings: {
        format_custom_escaping_rule: 'CSV',
        format_custom_field_delimiter: '\t',
        format_custom_row_before_delimiter: '',
        format_custom_row_after_delimiter: '\n',
        format_custom_row_between_delimiter: '',
        format_custom_result_before_delimiter: '',
        format_custom_result_after_delimiter: '',
      },
    };
  }
  return { format: hasHeader ? 'CSVWithNames' : 'CSV', settings: { format_csv_delimiter: delimiter } };
}

/**
 * How the engine reads the fields of a delimited object by position: the header row, when there is
 * one, is skipped rather than matched by name, so repeated or empty header names cannot break a read.
 */
export function positionalRead(delimiter: string, hasHeader: boolean, fieldCount: number): DelimitedFormat & { structure: string } {
  const delimited = delimitedFormat(delimiter, hasHeader);
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
