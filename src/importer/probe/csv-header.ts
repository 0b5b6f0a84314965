import type { DatasourceSpec } from '../../project/types.js';
import { isGenericColumnNames } from './csv-dialect.js';
import { mapColumns } from './map-columns.js';

/**
 * How the first row of a CSV object is told from data. A row is never dropped because it looked like
 * a header: it is one only on evidence, and one decision holds for every object of a datasource.
 *
 * - `decided`: IMPORT_CSV_HEADER, or the decision recorded when the tables of a datasource without a
 *   SCHEMA were made from its reference object.
 * - `names`: with a SCHEMA, a first row is a header when it names the table's columns (matched as
 *   everywhere: exact, else ignoring case and surrounding spaces); otherwise it is data.
 * - `evidence`: the reference object of a datasource without a SCHEMA, before anything is decided.
 */
export type HeaderRule =
  | { kind: 'decided'; hasHeader: boolean }
  | { kind: 'names'; columns: readonly string[] }
  | { kind: 'evidence' };

/** What a first row and the rows below it say: a header, data, or nothing either way. */
export type HeaderEvidence = 'header' | 'data' | 'ambiguous';

/** What the rows of a datasource's table are known to come from, when it has a table. */
export interface DatasourceTable {
  /** The table's loadable columns. */
  columns: readonly string[];
  /** The decision recorded with the table (absent for tables made before decisions were recorded). */
  csvHeader?: boolean;
}

/** The rule for the CSV objects of a datasource: IMPORT_CSV_HEADER, else its SCHEMA's names, else its table's decision. */
export function headerRule(spec: Pick<DatasourceSpec, 'schema' | 'import'>, table?: DatasourceTable): HeaderRule {
  if (spec.import?.csvHeader !== undefined) return { kind: 'decided', hasHeader: spec.import.csvHeader };
  if (spec.schema) return { kind: 'names', columns: table?.columns ?? spec.schema.map((c) => c.name) };
  if (!table) return { kind: 'evidence' };
  // A table made from headerless objects has the engine's names c1, c2, …; any other names came from a header.
  return { kind: 'decided', hasHeader: table.csvHeader ?? !isGenericColumnNames(table.columns) };
}

/** Whether a first row names at least one of the columns, by the matching that maps a header's names to them. */
export function namesColumns(firstRow: readonly (string | null)[], columns: readonly string[]): boolean {
  const names = firstRow.filter((v): v is string => v !== null && v.trim() !== '');
  return mapColumns(columns, names).size > 0;
}

/**
 * What the values say about a first row when nothing is declared: a number or a date in it makes it
 * data (names are not numbers); text names over a column of numbers or dates make it a header (the
 * engine's own test, redone here for headers it refuses, with repeated or empty names). Text over
 * text, or a row with nothing below it, is ambiguous.
 */
export function headerEvidence(firstRow: readonly (string | null)[], below: ReadonlyArray<readonly (string | null)[]>): HeaderEvidence {
  const present = (v: string | null | undefined): v is string => v !== null && v !== undefined && v.trim() !== '';
  const names = firstRow.filter(present);
  if (names.length === 0 || names.some(isNumberOrDate)) return 'data';
  for (let i = 0; i < firstRow.length; i++) {
    if (!present(firstRow[i])) continue;
    const values = below.map((row) => row[i]).filter(present);
    if (values.length > 0 && values.every(isNumberOrDate)) return 'header';
  }
  return 'ambiguous';
}

function isNumberOrDate(value: string): boolean {
  const v = value.trim();
  return NUMBER.test(v) || DATE.test(v);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?/;

/**
 * What push, preview and a first sync say when the evidence could not decide: the row is read as
 * data (a header taken for data costs a row of names; data taken for a header would lose a row).
 */
export function ambiguousHeaderNote(uri: string, firstRow: readonly (string | null)[], datasource: string): string {
  const shown = firstRow.map((v) => JSON.stringify(v ?? '')).join(', ');
  return (
    `cannot tell whether the first row of ${uri} (${shown}) is a header: it is text, like the rows below it. ` +
    `It is read as data, and so is the first row of every object of ${datasource}; ` +
    'write IMPORT_CSV_HEADER true if it names the columns, or IMPORT_CSV_HEADER false to settle it as data'
  );
}
