import { BucketpipeError, type ErrorContext } from '../errors.js';

/**
 * Where every record of one object went. A record is what the engine's reader delivers: a CSV record
 * (a line break inside quotes stays inside its record), an NDJSON line that is not blank, an element
 * of a JSON array, a Parquet row. Every record read is a row of the table, a row of the quarantine,
 * or the header line decided for the object; an import whose figures do not add up is not committed.
 */
export interface ObjectFigures {
  /** Records read, the header line included. */
  records: number;
  /** Of those, the CSV header line (0 or 1). */
  headerLines: number;
  /** Rows of the object in the data table. */
  rows: number;
  /** Rows of the object in the quarantine table. */
  quarantined: number;
}

/** Records that are neither a row of a table nor the header: 0 when the figures add up (negative: rows from nowhere). */
export function unaccounted(figures: ObjectFigures): number {
  return figures.records - figures.headerLines - figures.rows - figures.quarantined;
}

/** `3 rows imported, 1 quarantined, of 5 records read (1 a header line)`: the figures of the ops log. */
export function describeFigures(figures: ObjectFigures): string {
  const header = figures.headerLines > 0 ? ` (${figures.headerLines === 1 ? '1 a header line' : `${figures.headerLines} header lines`})` : '';
  return `${figures.rows} rows imported, ${figures.quarantined} quarantined, of ${figures.records} records read${header}`;
}

/** Refuses an object whose figures do not add up, naming the figures; the caller undoes its import. */
export function assertAccountedFor(uri: string, figures: ObjectFigures, context: ErrorContext = {}): void {
  const missing = unaccounted(figures);
  if (missing === 0) return;
  const gap = missing > 0 ? `${missing} of them neither in the table nor in quarantine` : `${-missing} more rows stored than records read`;
  throw new BucketpipeError(
    'ROWS_UNACCOUNTED',
    `${uri}: the rows do not add up: ${describeFigures(figures)}; ${gap}. The import of the object was undone and nothing of it was kept.`,
    { context },
  );
}

/**
 * Several objects loaded by one statement: the rows the split counted for each must be the rows the
 * table took in all. Otherwise the batch is undone and its objects are loaded one by one, each
 * counted in the table on its own.
 */
export function assertBatchAccountedFor(uris: readonly string[], counted: number, stored: number): void {
  if (counted === stored) return;
  throw new BucketpipeError(
    'ROWS_UNACCOUNTED',
    `a batch of ${uris.length} objects (${uris[0]} …): the split counted ${counted} rows for the table, and the table took ${stored}.`,
  );
}
