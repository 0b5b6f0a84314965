import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement, selectRows } from '../../store/queries.js';
import { identifierList, quoteIdentifier, quoteString } from '../../store/sql.js';
import { castExpressions, type TargetColumn } from './cast-expressions.js';
import { holdsLineBreak } from '../probe/csv-dialect.js';
import { IMPORT_TAG_SOURCE } from '../../store/table-names.js';
import type { TestFault } from '../test-fault.js';
import type { SplitTargets } from '../load-target.js';

/**
 * Columns of the intake table besides the raw values. Reserved: project columns may not start with `_bp_`.
 */
export const INTAKE = {
  row: '_bp_row',
  raw: '_bp_raw',
  rawProblem: '_bp_raw_problem',
  importId: '_bp_import',
  source: '_bp_source',
} as const;

/**
 * Raw values travel in positional columns: were they named like the data columns, the views'
 * output aliases would shadow them in WHERE.
 */
export function rawColumn(index: number): string {
  return `_bp_v${index}`;
}
/** The typed value of column `index`, computed once in the cast step. */
function typedColumn(index: number): string {
  return `_bp_t${index}`;
}
/** Whether the raw value of column `index` fits its type (1) or not (0). */
function fitsColumn(index: number): string {
  return `_bp_ok${index}`;
}

export function intakeTableName(datasource: string): string {
  return `_bp_in_${datasource}`;
}
function castTableName(datasource: string): string {
  return `_bp_cast_${datasource}`;
}
function castViewName(datasource: string): string {
  return `_bp_casting_${datasource}`;
}
function fitViewName(datasource: string): string {
  return `_bp_fit_${datasource}`;
}
function rejectViewName(datasource: string): string {
  return `_bp_reject_${datasource}`;
}
function countTableName(datasource: string): string {
  return `_bp_count_${datasource}`;
}
function countViewName(datasource: string): string {
  return `_bp_counting_${datasource}`;
}
function readTableName(datasource: string): string {
  return `_bp_read_${datasource}`;
}
function readViewName(datasource: string): string {
  return `_bp_reading_${datasource}`;
}

/**
 * Builds the split that runs inside the engine, with one read of each object and one cast of each
 * value: rows are inserted once, as text, into a Null-engine intake table; a materialized view casts
 * every value and marks what fits into a second Null table; from there one view moves the rows that
 * fit into the data table, the other the rows that do not, with their reasons, into the quarantine.
 */
export async function createSplitPipeline(
  client: ClickHouseClient,
  datasource: string,
  columns: readonly TargetColumn[],
  targets: SplitTargets,
  testFault?: TestFault,
): Promise<void> {
  await dropSplitPipeline(client, datasource);
  const intake = quoteIdentifier(intakeTableName(datasource));
  const cast = quoteIdentifier(castTableName(datasource));
  const rawColumns = columns.map((_, i) => `${rawColumn(i)} Nullable(String)`);
  // Values that are the same for a whole object (or row kind) are LowCardinality: a constant costs a
  // byte per row there, where a String column would copy the text into every row.
  const rowColumns = [
    `${INTAKE.row} UInt64`,
    `${INTAKE.raw} Nullable(String)`,
    `${INTAKE.rawProblem} LowCardinality(String)`,
    `${INTAKE.importId} LowCardinality(String)`,
    `${INTAKE.source} LowCardinality(String)`,
  ];
  const rowColumnNames = [INTAKE.row, INTAKE.raw, INTAKE.rawProblem, INTAKE.importId, INTAKE.source];
  await runStatement(client, `CREATE TABLE ${intake} (${[...rawColumns, ...rowColumns].join(', ')}) ENGINE = Null`);
  // Every record the reader delivers, by object, counted as it enters: what the import must account for.
  const reads = quoteIdentifier(readTableName(datasource));
  await runStatement(client, `CREATE TABLE ${reads} (source String, records UInt64) ENGINE = Memory`);
  await runStatement(
    client,
    `CREATE MATERIALIZED VIEW ${quoteIdentifier(readViewName(datasource))} TO ${reads} AS SELECT ${INTAKE.source} AS source, count() AS records FROM ${intake} GROUP BY ${INTAKE.source}`,
  );
  await runStatement(
    client,
    `CREATE TABLE ${cast} (${[
      ...rawColumns,
      ...columns.map((c, i) => `${typedColumn(i)} ${c.type}`),
      ...columns.map((_, i) => `${fitsColumn(i)} UInt8`),
      ...rowColumns,
    ].join(', ')}) ENGINE = Null`,
  );
  const casts = columns.map((c, i) => ({ column: c, ...castExpressions(c, rawColumn(i), targets) }));
  // A row fits when the parser split it into fields and every value fits its column.
  const allFit = [`${INTAKE.raw} IS NULL`, ...columns.map((_, i) => fitsColumn(i))].join(' AND ');
  await runStatement(
    client,
    `CREATE MATERIALIZED VIEW ${quoteIdentifier(castViewName(datasource))} TO ${cast} AS SELECT ${[
      ...columns.map((_, i) => rawColumn(i)),
      ...casts.map((c, i) => `${c.value} AS ${typedColumn(i)}`),
      ...casts.map((c, i) => `toUInt8(${c.fits}) AS ${fitsColumn(i)}`),
      ...rowColumnNames,
    ].join(', ')} FROM ${intake}`,
  );
  const fitSelect = [
    ...columns.map((c, i) => `${typedColumn(i)} AS ${quoteIdentifier(c.name)}`),
    ...(targets.tagSource ? [`${INTAKE.importId} AS ${quoteIdentifier(IMPORT_TAG_SOURCE)}`] : []),
  ].join(', ');
  // The test-only fault loses the first row of each object on its way to the data table, to prove
  // that the accounting catches a load path that drops rows (see test-fault.ts).
  const fault = testFault === 'drop-one-row' ? ` AND ${INTAKE.row} != 1` : '';
  await runStatement(
    client,
    `CREATE MATERIALIZED VIEW ${quoteIdentifier(fitViewName(datasource))} TO ${quoteIdentifier(targets.data)} ` +
      `AS SELECT ${fitSelect || '*'} FROM ${cast} WHERE ${allFit}${fault}`,
  );
  const misfitColumns = casts.map((c, i) => `if(${fitsColumn(i)}, '', ${quoteString(c.column.name)})`);
  const misfitProblems = casts.map((c, i) => `if(${fitsColumn(i)}, '', concat(${quoteString(c.column.name)}, ': ', ${c.problem}))`);
  const rejectSelect = [
    ...columns.map((c, i) => `${rawColumn(i)} AS ${quoteIdentifier(c.name)}`),
    `if(${INTAKE.raw} IS NULL, arrayFilter(x -> x != '', [${misfitColumns.join(', ')}]), []) AS c__error_column`,
    `if(${INTAKE.raw} IS NULL, arrayFilter(x -> x != '', [${misfitProblems.join(', ')}]), [${INTAKE.rawProblem}]) AS c__error`,
    `${INTAKE.importId} AS c__import_id`,
    `${INTAKE.source} AS c__source`,
    `${INTAKE.row} AS c__row`,
    `${INTAKE.raw} AS c__raw`,
  ];
  await runStatement(
    client,
    `CREATE MATERIALIZED VIEW ${quoteIdentifier(rejectViewName(datasource))} TO ${quoteIdentifier(targets.quarantine)} ` +
      `AS SELECT ${rejectSelect.join(', ')} FROM ${cast} WHERE NOT (${allFit})`,
  );
  // Rows that fit, by object: one statement may load several objects, and each gets its own count.
  const counts = quoteIdentifier(countTableName(datasource));
  await runStatement(client, `CREATE TABLE ${counts} (source String, rows UInt64, last_row UInt64, last_multiline UInt8) ENGINE = Memory`);
  // Whether the last row that fits holds a line break: a CSV quote left open takes in the rest of the
  // object as one field, without an error from the parser, and that field ends the object. Lines
  // may end in a lone \r: a quote left open in such a file takes in no \n at all.
  const multiline = columns.length === 0 ? '0' : columns.map((_, i) => holdsLineBreak(`ifNull(${rawColumn(i)}, '')`, '\r')).join(' OR ');
  await runStatement(
    client,
    `CREATE MATERIALIZED VIEW ${quoteIdentifier(countViewName(datasource))} TO ${counts} ` +
      `AS SELECT ${INTAKE.source} AS source, count() AS rows, max(${INTAKE.row}) AS last_row, argMax(toUInt8(${multiline}), ${INTAKE.row}) AS last_multiline ` +
      `FROM ${cast} WHERE ${allFit} GROUP BY ${INTAKE.source}`,
  );
}

/** Forgets the counts of earlier loads. */
export async function clearRowCounts(client: ClickHouseClient, datasource: string): Promise<void> {
  await runStatement(client, `TRUNCATE TABLE ${quoteIdentifier(countTableName(datasource))}`);
  await runStatement(client, `TRUNCATE TABLE ${quoteIdentifier(readTableName(datasource))}`);
}

/** Sources whose last row that fits holds a line break, with that row's number. */
export async function sourcesEndingMultiline(client: ClickHouseClient, datasource: string): Promise<Map<string, number>> {
  const rows = await selectRows<{ source: string; row: string | number }>(
    client,
    `SELECT source, max(last_row) AS row FROM ${quoteIdentifier(countTableName(datasource))} GROUP BY source HAVING argMax(last_multiline, last_row) = 1`,
  );
  return new Map(rows.map((r) => [r.source, Number(r.row)]));
}

/** What the split counted for one object since the counts were cleared. */
export interface SplitCounts {
  /** Records that entered the split. */
  records: number;
  /** Of those, the rows that fit the table's columns. */
  rows: number;
}

/** The split's counts, by source URI. */
export async function countsBySource(client: ClickHouseClient, datasource: string): Promise<Map<string, SplitCounts>> {
  const rows = await selectRows<{ source: string; records: string | number; rows: string | number }>(
    client,
    `SELECT source, sum(records) AS records, sum(rows) AS rows FROM (
       SELECT source, records, toUInt64(0) AS rows FROM ${quoteIdentifier(readTableName(datasource))}
       UNION ALL SELECT source, toUInt64(0) AS records, rows FROM ${quoteIdentifier(countTableName(datasource))}
     ) GROUP BY source`,
  );
  return new Map(rows.map((r) => [r.source, { records: Number(r.records), rows: Number(r.rows) }]));
}

export async function dropSplitPipeline(client: ClickHouseClient, datasource: string): Promise<void> {
  await runStatement(client, `DROP VIEW IF EXISTS ${quoteIdentifier(readViewName(datasource))}`);
  await runStatement(client, `DROP TABLE IF EXISTS ${quoteIdentifier(readTableName(datasource))}`);
  await runStatement(client, `DROP VIEW IF EXISTS ${quoteIdentifier(countViewName(datasource))}`);
  await runStatement(client, `DROP TABLE IF EXISTS ${quoteIdentifier(countTableName(datasource))}`);
  await runStatement(client, `DROP VIEW IF EXISTS ${quoteIdentifier(castViewName(datasource))}`);
  await runStatement(client, `DROP VIEW IF EXISTS ${quoteIdentifier(fitViewName(datasource))}`);
  await runStatement(client, `DROP VIEW IF EXISTS ${quoteIdentifier(rejectViewName(datasource))}`);
  await runStatement(client, `DROP TABLE IF EXISTS ${quoteIdentifier(intakeTableName(datasource))}`);
  await runStatement(client, `DROP TABLE IF EXISTS ${quoteIdentifier(castTableName(datasource))}`);
}

/** The intake column list in insert order, for `INSERT INTO intake (...) SELECT ...`. */
export function intakeColumnList(columns: readonly TargetColumn[]): string {
  return identifierList([
    ...columns.map((_, i) => rawColumn(i)),
    INTAKE.row,
    INTAKE.raw,
    INTAKE.rawProblem,
    INTAKE.importId,
    INTAKE.source,
  ]);
}
