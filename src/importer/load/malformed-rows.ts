import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement, selectRows, type QuerySettings } from '../../store/queries.js';
import { quoteIdentifier } from '../../store/sql.js';

/** More rejected rows than any file has: rejected rows are kept aside, never a reason to stop. */
const UNLIMITED_ERRORS = 1_000_000_000_000;

/**
 * The CSV parser skips rows it cannot split and records them, with their raw text, in a file of the
 * reading engine's machine (this one: the embedded store, or the worker's own engine).
 */
export function malformedRowsToFile(path: string): QuerySettings {
  return {
    input_format_allow_errors_num: UNLIMITED_ERRORS,
    input_format_allow_errors_ratio: 1,
    input_format_record_errors_file_path: path,
  };
}

const MALFORMED_ROW_LOST =
  'malformed row: it does not end where a row should, and its text is too long to keep: often a quote that is never closed, which takes in the rest of the file';

/**
 * The engine writes the rows it rejects to a CSV file of its own, whatever the object's format: the
 * format of that record, not of the data, so no format record names it.
 */
const ERRORS_FILE_FORMAT = 'CSV';

const ERRORS_FILE_STRUCTURE = 'time DateTime, database Nullable(String), table Nullable(String), offset Nullable(UInt64), reason String, raw_data String';

/**
 * Rows the CSV parser could not split into fields, with their raw text and the parser's reason.
 * Returns how many the parser set aside: records read, counted apart from what the quarantine took.
 */
export async function quarantineMalformedRows(
  client: ClickHouseClient,
  quarantineTable: string,
  errorsFile: string,
  rows: { importId: string; source: string; /** Lines before the first data row, which the record counts as rows. */ headerRows: number },
): Promise<number> {
  const [set] = await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM file({path:String}, {format:String}, {structure:String})`, {
    path: errorsFile,
    format: ERRORS_FILE_FORMAT,
    structure: ERRORS_FILE_STRUCTURE,
  });
  await runStatement(
    client,
    `INSERT INTO ${quoteIdentifier(quarantineTable)} (c__error_column, c__error, c__import_id, c__source, c__row, c__raw)
     SELECT [], [if(lost, {lost:String}, concat('malformed row: ', ifNull(nullIf(extract(reason, 'ERROR: ([^\\n]*)'), ''), reason)))],
            {id:String}, {source:String}, greatest(ifNull(offset, 0), {header:UInt64}) - {header:UInt64}, if(lost, '', raw_data)
     FROM (SELECT *, startsWith(reason, 'Buffer has gone') AS lost
           FROM file({path:String}, {format:String}, {structure:String}))`,
    // The reader keeps no text of a row that outgrew its buffer, as one does whose quote is never closed.
    { id: rows.importId, source: rows.source, path: errorsFile, lost: MALFORMED_ROW_LOST, header: rows.headerRows, format: ERRORS_FILE_FORMAT, structure: ERRORS_FILE_STRUCTURE },
  );
  await renumberAroundMalformedRows(client, quarantineTable, rows.importId);
  return Number(set?.n ?? 0);
}

/**
 * The engine numbers the rows it parsed; rows it skipped as malformed are not counted. Shift the
 * numbers of rejected-but-parsed rows so every `c__row` is the row's place in the file.
 */
async function renumberAroundMalformedRows(client: ClickHouseClient, quarantineTable: string, importId: string): Promise<void> {
  const quarantine = quoteIdentifier(quarantineTable);
  const rows = await selectRows<{ c__row: string; malformed: number }>(
    client,
    `SELECT c__row, c__raw IS NOT NULL AS malformed FROM ${quarantine} WHERE c__import_id = {id:String} ORDER BY c__row`,
    { id: importId },
  );
  const skipped = rows.filter((r) => r.malformed).map((r) => Number(r.c__row));
  const parsed = rows.filter((r) => !r.malformed).map((r) => Number(r.c__row));
  if (skipped.length === 0 || parsed.length === 0) return;
  const from: number[] = [];
  const to: number[] = [];
  for (const n of parsed) {
    let actual = n;
    for (const s of skipped) if (s <= actual) actual++;
    if (actual !== n) {
      from.push(n);
      to.push(actual);
    }
  }
  if (from.length === 0) return;
  await runStatement(
    client,
    `ALTER TABLE ${quarantine} UPDATE c__row = transform(c__row, {from:Array(UInt64)}, {to:Array(UInt64)}, c__row)
     WHERE c__import_id = {id:String} AND c__raw IS NULL`,
    { from, to, id: importId },
    { mutations_sync: 2 },
  );
}

