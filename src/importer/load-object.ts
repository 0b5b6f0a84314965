import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { objectUri } from '../bucket/bucket-uri.js';
import { runStatement, selectRows, type QuerySettings } from '../store/queries.js';
import { identifierList, quoteIdentifier, quoteString } from '../store/sql.js';
import type { TargetColumn } from './cast-expressions.js';
import { baseType, isCompositeType, isStringType } from './column-types.js';
import { fieldColumn, positionalRead } from './csv-dialect.js';
import { s3TableFunction } from './engine-source.js';
import type { ImportContext } from './import-context.js';
import { defaultJsonPath, parseJsonPath } from './json-path.js';
import { mapColumns, mapObjectColumns } from './map-columns.js';
import { intakeColumnList, intakeTableName, type SplitTargets } from './pipeline.js';
import type { LocalEngine } from '../store/local-engine.js';
import type { Store } from '../store/create-store.js';
import { onCluster } from '../store/table-ddl.js';
import { withEngineErrors, type ObjectLayout } from './probe-object.js';
import { IMPORT_TAG_COLUMN, quarantineTableName } from './table-names.js';

export interface LoadResult {
  rows: number;
  quarantined: number;
}

/** More rejected rows than any file has: rejected rows are kept aside, never a reason to stop. */
const UNLIMITED_ERRORS = 1_000_000_000_000;

/**
 * Loads one object through the split pipeline. Rows written to the data table carry the import id
 * in the hidden tag column, so an interrupted load can be undone exactly.
 */
export async function loadObject(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly TargetColumn[],
  importId: string,
): Promise<LoadResult> {
  if (layout.empty || (layout.format !== 'ndjson' && layout.columns.length === 0)) return { rows: 0, quarantined: 0 };
  return ctx.staging ? loadThroughStage(ctx, ctx.staging, layout, columns, importId) : loadInPlace(ctx, layout, columns, importId);
}

/** Embedded store: the split writes straight into the datasource's tables, tagged while it runs. */
async function loadInPlace(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string): Promise<LoadResult> {
  const client = ctx.store.client;
  const table = ctx.datasource.name;
  const firstNewBlock = (await lastBlockNumber(client, table)) + 1;
  await setImportTag(client, table, importId);
  try {
    await split(ctx, layout, columns, importId, { data: table, quarantine: quarantineTableName(table) });
  } finally {
    await setImportTag(client, table, '');
  }
  return {
    rows: await countTaggedRows(client, table, importId, firstNewBlock),
    quarantined: await countQuarantined(client, table, importId),
  };
}

/**
 * A ClickHouse server as the store: the worker's engine splits the object into local staging tables,
 * then the typed rows stream to the server (TabSeparated, which every server version reads), each
 * data row with its import id.
 */
async function loadThroughStage(
  ctx: ImportContext,
  staging: LocalEngine,
  layout: ObjectLayout,
  columns: readonly TargetColumn[],
  importId: string,
): Promise<LoadResult> {
  const table = ctx.datasource.name;
  const targets = stagingTargets(table);
  await runStatement(staging.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(targets.data)}`);
  await runStatement(staging.client, `TRUNCATE TABLE IF EXISTS ${quoteIdentifier(targets.quarantine)}`);
  await split(ctx, layout, columns, importId, targets);
  const count = async (name: string) => Number((await selectRows<{ n: string }>(staging.client, `SELECT count() AS n FROM ${quoteIdentifier(name)}`))[0]?.n ?? 0);
  const result = { rows: await count(targets.data), quarantined: await count(targets.quarantine) };
  const ship = async (from: string, to: string, names: readonly string[], tag?: string) => {
    const list = identifierList(names);
    // The import id travels with each data row (no ALTER per object on the server, or its cluster).
    const target = tag === undefined ? list : `${list}, ${quoteIdentifier(IMPORT_TAG_COLUMN)}`;
    const shipped = await ctx.store.client.exec({
      query: `INSERT INTO ${quoteIdentifier(to)} (${target}) FORMAT TabSeparated`,
      values: staging.stream(`SELECT ${list}${tag === undefined ? '' : `, ${quoteString(tag)}`} FROM ${quoteIdentifier(from)}`, 'TabSeparated'),
      clickhouse_settings: tag === undefined ? {} : { insert_allow_materialized_columns: 1 },
    });
    shipped.stream.resume();
  };
  if (result.rows > 0) await ship(targets.data, table, columns.map((c) => c.name), importId);
  if (result.quarantined > 0) {
    await ship(targets.quarantine, quarantineTableName(table), [...columns.map((c) => c.name), ...QUARANTINE_FIELDS]);
  }
  return result;
}

/** The quarantine columns besides the data columns' text (insertion_date takes its default). */
const QUARANTINE_FIELDS = ['c__error_column', 'c__error', 'c__import_id', 'c__source', 'c__row', 'c__raw'];

/** Local staging tables of a datasource in the worker's engine. */
export function stagingTargets(datasource: string): SplitTargets {
  return { data: `_bp_stage_${datasource}`, quarantine: `_bp_stage_${datasource}_quarantine` };
}

/** Reads the object once and writes its rows into `targets`: through the split, or directly when nothing can fail to fit. */
async function split(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[], importId: string, targets: SplitTargets): Promise<void> {
  const engine = ctx.engine;
  const table = ctx.datasource.name;
  const source = objectUri(layout.object.bucket, layout.object.key);
  const errorsFile = join(ctx.store.scratchDir, `${importId}.rejected.csv`);
  rmSync(errorsFile, { force: true });
  const direct = directInsert(layout, columns);
  const read = direct ?? readQuery(ctx, layout, columns);
  try {
    await withEngineErrors(ctx, layout.object, layout.source, async () => {
      if (direct) {
        await runStatement(engine, `INSERT INTO ${quoteIdentifier(targets.data)} ${direct.sql}`, direct.params);
        return;
      }
      await runStatement(
        engine,
        `INSERT INTO ${quoteIdentifier(intakeTableName(table))} (${intakeColumnList(columns)}) ${read.sql}`,
        { ...read.params, bp_import_id: importId, bp_source: source },
        layout.format === 'csv' ? { ...read.settings, ...malformedRowsToFile(errorsFile) } : read.settings,
      );
      if (existsSync(errorsFile)) await quarantineMalformedRows(engine, targets.quarantine, errorsFile, importId, source);
    });
  } finally {
    rmSync(errorsFile, { force: true });
  }
}

/**
 * The CSV parser skips rows it cannot split and records them, with their raw text, in a file of the
 * reading engine's machine (this one: the embedded store, or the worker's own engine).
 */
function malformedRowsToFile(path: string): QuerySettings {
  return {
    input_format_allow_errors_num: UNLIMITED_ERRORS,
    input_format_allow_errors_ratio: 1,
    input_format_record_errors_file_path: path,
  };
}

/**
 * A Parquet object whose columns have exactly the table's types cannot hold a value that does not
 * fit: it is inserted as it is, at the engine's own speed, without the text round trip of the split.
 * Table columns the object lacks take their defaults.
 */
function directInsert(layout: ObjectLayout, columns: readonly TargetColumn[]): ReadQuery | undefined {
  if (layout.format !== 'parquet') return undefined;
  const sourceTypes = new Map(layout.columns.map((c) => [c.name, c.type]));
  const mapping = mapColumns(columns.map((c) => c.name), layout.columns.map((c) => c.name));
  const pairs = columns.filter((c) => mapping.has(c.name)).map((c) => ({ target: c, from: mapping.get(c.name)! }));
  if (pairs.length === 0 || pairs.some((p) => sourceTypes.get(p.from) !== p.target.type)) return undefined;
  const fn = s3TableFunction(layout.source, 'Parquet');
  return {
    sql: `(${pairs.map((p) => quoteIdentifier(p.target.name)).join(', ')}) SELECT ${pairs.map((p) => quoteIdentifier(p.from)).join(', ')} FROM ${fn.sql}`,
    params: fn.params,
    settings: {},
  };
}

interface ReadQuery {
  sql: string;
  params: Record<string, string>;
  settings: QuerySettings;
}

function readQuery(ctx: ImportContext, layout: ObjectLayout, columns: readonly TargetColumn[]): ReadQuery {
  const tail = `{bp_import_id:String}, {bp_source:String}`;
  if (layout.format === 'ndjson') return ndjsonReadQuery(ctx, layout, columns, tail);
  const mapping = mapColumns(columns.map((c) => c.name), layout.columns.map((c) => c.name));
  const sourceTypes = new Map(layout.columns.map((c) => [c.name, c.type]));
  if (layout.format === 'parquet') {
    const values = columns.map((c) => {
      const from = mapping.get(c.name);
      if (from === undefined) return 'NULL';
      const type = sourceTypes.get(from) ?? 'String';
      if (isStringType(type)) return quoteIdentifier(from);
      if (isCompositeType(type)) return `toJSONString(${quoteIdentifier(from)})`;
      // An instant travels as ISO 8601 in UTC, so no time zone can shift it on the way.
      if (/^DateTime/.test(baseType(type))) return `formatDateTime(${quoteIdentifier(from)}, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')`;
      return `toString(${quoteIdentifier(from)})`;
    });
    const fn = s3TableFunction(layout.source, 'Parquet');
    return {
      sql: `SELECT ${[...values, '_row_number + 1', 'NULL', "''", tail].join(', ')} FROM ${fn.sql}`,
      params: fn.params,
      settings: {},
    };
  }
  const csv = layout.csv!;
  const byPosition = mapObjectColumns(columns.map((c) => c.name), layout, Boolean(ctx.datasource.schema)).mapping;
  const read = positionalRead(csv.delimiter, csv.hasHeader, layout.columns.length);
  const fn = s3TableFunction(layout.source, read.format, read.structure);
  const position = new Map(layout.columns.map((c, i) => [c.name, i]));
  const values = columns.map((c) => {
    const from = byPosition.get(c.name);
    return from === undefined ? 'NULL' : fieldColumn(position.get(from)!);
  });
  return {
    sql: `SELECT ${[...values, '_row_number + 1', 'NULL', "''", tail].join(', ')} FROM ${fn.sql}`,
    params: fn.params,
    settings: read.settings,
  };
}

function ndjsonReadQuery(
  ctx: ImportContext,
  layout: ObjectLayout,
  columns: readonly TargetColumn[],
  tail: string,
): ReadQuery {
  const declared = new Map((ctx.datasource.schema ?? []).map((c) => [c.name, c.jsonPath]));
  const params: Record<string, string> = {};
  const values = columns.map((c, i) => {
    const path = parseJsonPath(declared.get(c.name) ?? defaultJsonPath(c.name)) ?? [c.name];
    const args = path.map((segment, j) => {
      if (typeof segment === 'number') return String(segment + 1);
      params[`jp_${i}_${j}`] = segment;
      return `{jp_${i}_${j}:String}`;
    });
    const at = ['line', ...args].join(', ');
    // The raw JSON text of the value: strings are unescaped, objects and arrays stay JSON.
    return `multiIf(JSONExtractRaw(${at}) IN ('', 'null'), NULL, startsWith(JSONExtractRaw(${at}), '"'), JSONExtractString(${at}), JSONExtractRaw(${at}))`;
  });
  const outer = `SELECT ${[...values, 'n + 1', "if(valid, NULL, line)", "if(valid, '', 'the line is not a JSON object')", tail].join(', ')} `;
  if (layout.jsonArray) {
    // One JSON array of objects: the engine hands over each element; numbers are element places.
    const fn = s3TableFunction(layout.source, 'JSONAsString', 'line String');
    return { sql: `${outer}FROM (SELECT line, _row_number AS n, JSONType(line) = 'Object' AS valid FROM ${fn.sql})`, params: { ...fn.params, ...params }, settings: {} };
  }
  const fn = s3TableFunction(layout.source, 'LineAsString', 'raw String');
  // A UTF-8 byte order mark before the first line is not part of its JSON.
  const sql =
    `${outer}FROM (SELECT line, _row_number AS n, isValidJSON(line) AND JSONType(line) = 'Object' AS valid ` +
    `FROM (SELECT if(_row_number = 0, replaceOne(raw, '\\xEF\\xBB\\xBF', ''), raw) AS line, _row_number FROM ${fn.sql}) ` +
    `WHERE NOT match(line, '^\\\\s*$'))`;
  return { sql, params: { ...fn.params, ...params }, settings: {} };
}

const MALFORMED_ROW_LOST =
  'malformed row: it does not end where a row should, and its text is too long to keep: often a quote that is never closed, which takes in the rest of the file';

/** Rows the CSV parser could not split into fields, with their raw text and the parser's reason. */
async function quarantineMalformedRows(
  client: ClickHouseClient,
  quarantineTable: string,
  errorsFile: string,
  importId: string,
  source: string,
): Promise<void> {
  await runStatement(
    client,
    `INSERT INTO ${quoteIdentifier(quarantineTable)} (c__error_column, c__error, c__import_id, c__source, c__row, c__raw)
     SELECT [], [if(lost, {lost:String}, concat('malformed row: ', ifNull(nullIf(extract(reason, 'ERROR: ([^\\n]*)'), ''), reason)))],
            {id:String}, {source:String}, ifNull(offset, 0), if(lost, '', raw_data)
     FROM (SELECT *, startsWith(reason, 'Buffer has gone') AS lost
           FROM file({path:String}, 'CSV', 'time DateTime, database Nullable(String), table Nullable(String), offset Nullable(UInt64), reason String, raw_data String'))`,
    // The reader keeps no text of a row that outgrew its buffer, as one does whose quote is never closed.
    { id: importId, source, path: errorsFile, lost: MALFORMED_ROW_LOST },
  );
  await renumberAroundMalformedRows(client, quarantineTable, importId);
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

/** Every insert into the data table is tagged with this value until it is set again. */
export async function setImportTag(client: ClickHouseClient, table: string, importId: string): Promise<void> {
  await runStatement(
    client,
    `ALTER TABLE ${quoteIdentifier(table)} MODIFY COLUMN ${quoteIdentifier(IMPORT_TAG_COLUMN)} String MATERIALIZED {tag:String}`,
    { tag: importId },
  );
}

async function lastBlockNumber(client: ClickHouseClient, table: string): Promise<number> {
  const rows = await selectRows<{ n: string | null }>(
    client,
    `SELECT max(max_block_number) AS n FROM system.parts WHERE database = currentDatabase() AND table = {table:String}`,
    { table },
  );
  return Number(rows[0]?.n ?? 0);
}

/** Counts the tagged rows in the parts written since `firstBlock`, without scanning older parts. */
async function countTaggedRows(client: ClickHouseClient, table: string, importId: string, firstBlock: number): Promise<number> {
  const rows = await selectRows<{ n: string }>(
    client,
    // The part name (partition_min_max_level) is read with each row: a list of parts taken first
    // could miss the rows of parts merged between the two reads.
    `SELECT count() AS n FROM ${quoteIdentifier(table)}
     WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String} AND toUInt64(splitByChar('_', _part)[3]) >= {first:UInt64}`,
    { id: importId, first: firstBlock },
  );
  return Number(rows[0]?.n ?? 0);
}

export async function countQuarantined(client: ClickHouseClient, table: string, importId: string): Promise<number> {
  const rows = await selectRows<{ n: string }>(
    client,
    `SELECT count() AS n FROM ${quoteIdentifier(quarantineTableName(table))} WHERE c__import_id = {id:String}`,
    { id: importId },
  );
  return Number(rows[0]?.n ?? 0);
}

/** Removes every row an import wrote, from the data and the quarantine table. Safe to repeat. */
export async function undoImport(store: Pick<Store, 'client' | 'capabilities' | 'cluster'>, table: string, importId: string): Promise<void> {
  const client = store.client;
  // Waiting is a courtesy: a mutation touches only the parts that exist when it is made, so rows
  // loaded again after it are safe either way (old servers cannot wait).
  const settings: QuerySettings = store.capabilities.mutationsSync ? { mutations_sync: 2 } : {};
  const on = onCluster(store.cluster);
  await runStatement(client, `ALTER TABLE ${quoteIdentifier(table)}${on} DELETE WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String}`, { id: importId }, settings);
  await runStatement(client, `ALTER TABLE ${quoteIdentifier(quarantineTableName(table))}${on} DELETE WHERE c__import_id = {id:String}`, { id: importId }, settings);
}
