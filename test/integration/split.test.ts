import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { TargetColumn } from '../../src/importer/load/cast-expressions.js';
import { clearRowCounts, countsBySource, createSplitPipeline, dropSplitPipeline, intakeColumnList, intakeTableName } from '../../src/importer/load/split-views.js';
import { IMPORT_TAG_COLUMN } from '../../src/store/table-names.js';
import { loadTarget } from '../../src/importer/load-target.js';
import type { Store } from '../../src/store/create-store.js';
import { runStatement } from '../../src/store/queries.js';
import { quoteString } from '../../src/store/sql.js';
import { query } from '../helpers/embedded.js';
import { withPushedProject } from '../helpers/pushed-project.js';

/**
 * The split on the embedded engine: rows enter the intake as text, as the readers deliver them, and
 * leave as typed rows of the data table or as text rows of `<name>_quarantine` with their reasons;
 * the split counts, per object, the records that came in and the rows that fit.
 */

const COLUMNS: TargetColumn[] = [
  { name: 'id', type: 'UInt32' },
  { name: 'name', type: 'String' },
  { name: 'at', type: 'DateTime' },
  { name: 'score', type: 'Nullable(Float64)' },
];
const SCHEMA = '    `id` UInt32,\n    `name` String,\n    `at` DateTime,\n    `score` Nullable(Float64)';

/** One record as the intake takes it: raw values (null = absent), or the raw line the parser could not split. */
interface Intake {
  values: Array<string | null>;
  row: number;
  raw?: string;
  rawProblem?: string;
  importId: string;
  source: string;
}

const literal = (value: string | null | undefined) => (value === null || value === undefined ? 'NULL' : quoteString(value));

describe('the split into data and quarantine', () => {
  let bucket: string;
  let app: App;
  let store: Store;
  withPushedProject({ sp: SCHEMA }, (pushed) => ({ bucket, app, store } = pushed));

  async function load(records: Intake[]): Promise<void> {
    const values = records.map((r) =>
      `(${[...r.values.map(literal), String(r.row), literal(r.raw), literal(r.rawProblem ?? ''), literal(r.importId), literal(r.source)].join(', ')})`,
    );
    await runStatement(store.client, `INSERT INTO ${intakeTableName('sp')} (${intakeColumnList(COLUMNS)}) VALUES ${values.join(', ')}`);
  }

  // Guards against rows lost or doubled on the way (each record must land in exactly one table), bad
  // values cast to defaults (0, 1970) in the data table instead of quarantined, reasons that do not
  // name the column, rows without their import id (recovery could not remove them), and counts
  // mixed up between the objects of one statement.
  it('lands rows that fit typed and tagged, the rest in quarantine with reasons, and counts each object', async () => {
    const a = `s3://${bucket}/sp/a.csv`;
    const b = `s3://${bucket}/sp/b.csv`;
    await createSplitPipeline(store.client, 'sp', COLUMNS, loadTarget('sp', undefined).split);
    await load([
      { values: ['1', 'alice', '2024-01-02 03:04:05', '1.5'], row: 1, importId: 'imp_a', source: a },
      { values: ['x', 'bob', '2024-01-02 03:04:05', '2'], row: 2, importId: 'imp_a', source: a },
      { values: ['3', 'carol', 'not a date', null], row: 3, importId: 'imp_a', source: a },
      { values: ['4', 'dave', '2024-01-02 03:04:06', null], row: 4, importId: 'imp_a', source: a },
      { values: [null, null, null, null], row: 5, raw: '5,"erin', rawProblem: 'a quote that is never closed', importId: 'imp_a', source: a },
      { values: ['10', 'frank', '2024-02-03 00:00:00', '-0.25'], row: 1, importId: 'imp_b', source: b },
      { values: ['99999999999', 'grace', '2024-02-03 00:00:00', 'many'], row: 2, importId: 'imp_b', source: b },
    ]);

    const data = await query(
      app,
      `SELECT id, toTypeName(id) AS id_type, name, toString(at) AS at, score, ${IMPORT_TAG_COLUMN} AS import_id FROM sp ORDER BY id`,
    );
    expect(data).toEqual([
      { id: 1, id_type: 'UInt32', name: 'alice', at: '2024-01-02 03:04:05', score: 1.5, import_id: 'imp_a' },
      { id: 4, id_type: 'UInt32', name: 'dave', at: '2024-01-02 03:04:06', score: null, import_id: 'imp_a' },
      { id: 10, id_type: 'UInt32', name: 'frank', at: '2024-02-03 00:00:00', score: -0.25, import_id: 'imp_b' },
    ]);

    const quarantine = await query<{ source: string; row: number; import_id: string; id: string | null; at: string | null; score: string | null; error_column: string[]; error: string[]; raw: string | null }>(
      app,
      `SELECT c__source AS source, c__row AS row, c__import_id AS import_id, id, at, score, c__error_column AS error_column, c__error AS error, c__raw AS raw
       FROM sp_quarantine ORDER BY source, row`,
    );
    expect(quarantine.map(({ error, ...rest }) => ({ ...rest, row: Number(rest.row), errors: error.length }))).toEqual([
      { source: a, row: 2, import_id: 'imp_a', id: 'x', at: '2024-01-02 03:04:05', score: '2', error_column: ['id'], errors: 1, raw: null },
      { source: a, row: 3, import_id: 'imp_a', id: '3', at: 'not a date', score: null, error_column: ['at'], errors: 1, raw: null },
      { source: a, row: 5, import_id: 'imp_a', id: null, at: null, score: null, error_column: [], errors: 1, raw: '5,"erin' },
      { source: b, row: 2, import_id: 'imp_b', id: '99999999999', at: '2024-02-03 00:00:00', score: 'many', error_column: ['id', 'score'], errors: 2, raw: null },
    ]);
    // Each reason names its column and quotes the value; a record the parser could not split keeps the parser's reason.
    const reasons = quarantine.map((q) => q.error);
    expect(reasons[0]![0]).toMatch(/^id: .*"x"/);
    expect(reasons[1]![0]).toMatch(/^at: .*"not a date"/);
    expect(reasons[2]).toEqual(['a quote that is never closed']);
    expect(reasons[3]![0]).toMatch(/^id: .*"99999999999"/);
    expect(reasons[3]![1]).toMatch(/^score: .*"many"/);

    const counts = await countsBySource(store.client, 'sp');
    expect(Object.fromEntries(counts)).toEqual({ [a]: { records: 5, rows: 2 }, [b]: { records: 2, rows: 1 } });
    // The figures the commit checks: every record is a row of one table or the other.
    for (const [source, figures] of counts) {
      const quarantined = quarantine.filter((q) => q.source === source).length;
      expect(figures.records, source).toBe(figures.rows + quarantined);
    }
  });

  // Guards against counts that leak from one load into the next (an object would be checked against
  // another's figures) and a pipeline that stays behind after the run.
  it('forgets its counts when cleared and leaves nothing behind when dropped', async () => {
    await clearRowCounts(store.client, 'sp');
    expect(await countsBySource(store.client, 'sp')).toEqual(new Map());
    await load([{ values: ['20', 'heidi', '2024-03-01 00:00:00', null], row: 1, importId: 'imp_c', source: 's3://x/c.csv' }]);
    expect(Object.fromEntries(await countsBySource(store.client, 'sp'))).toEqual({ 's3://x/c.csv': { records: 1, rows: 1 } });
    const pipelineTables = () => query<{ name: string }>(app, `SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '\\_bp\\_%\\_sp'`);
    expect((await pipelineTables()).map((t) => t.name)).toContain(intakeTableName('sp'));
    await dropSplitPipeline(store.client, 'sp');
    expect(await pipelineTables()).toEqual([]);
    // The datasource's own tables stay, with what the split wrote.
    expect(await query(app, `SELECT count() AS n FROM sp`)).toEqual([{ n: 4 }]);
    expect(await query(app, `SELECT count() AS n FROM sp_quarantine`)).toEqual([{ n: 4 }]);
  });
});
