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
