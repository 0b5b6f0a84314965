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
 * Whether a first row reads as a header when the engine could not tell (all-text files): every value
 * is present, not a number, and unique.
 */
export function looksLikeHeader(firstRow: readonly (string | null)[]): boolean {
  const seen = new Set<string>();
  for (const value of firstRow) {
    if (value === null || value.trim() === '') return false;
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return false;
    if (seen.has(value)) return false;
    seen.add(value);
  }
  return firstRow.length > 0;
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
