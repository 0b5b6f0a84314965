import { importHere } from '../../src/worker/run-here.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { closeTestApp, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

/** Rows `first ≤ number < first + count`, written as Parquet by the engine. */
async function putParquet(app: App, bucket: string, key: string, first: number, count: number): Promise<void> {
  await (await app.store()).client.command({
    query:
      `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'Parquet') ` +
      `SELECT number AS id, toString(number) AS name, [number, number + 1] AS arr, toDate('2024-01-01') + number AS day, ` +
      `if(number % 3 = 0, NULL, number * 1.5) AS maybe FROM numbers({first:UInt64}, {count:UInt64}) SETTINGS s3_truncate_on_insert = 1`,
    query_params: { url: `${s3Endpoint()}/${bucket}/${key}`, k: S3_KEY, s: S3_SECRET, first, count },
  });
}

/** `2024-01-01 + n days` as YYYY-MM-DD. */
function dayOf(n: number): string {
  return new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10);
}

const N = 2000; // two objects of 1000 rows: 0..999 and 1000..1999
const SUM_ID = (N * (N - 1)) / 2;
const NULLS = Array.from({ length: N }, (_, n) => n).filter((n) => n % 3 === 0).length;
const SUM_MAYBE = Array.from({ length: N }, (_, n) => n).filter((n) => n % 3 !== 0).reduce((s, n) => s + n * 1.5, 0);

describe('Parquet import', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  let app: App;

  beforeAll(async () => {
    bucket = await createBucket(s3);
    project = createProjectDir(s3Endpoint());
    project.writeDatasource('pq_inferred', importDatasource(`s3://${bucket}/pq/part-*.parquet`));
    project.writeDatasource(
      'pq_typed',
      importDatasource(`s3://${bucket}/pq/*.parquet`, {
        schema: [
          '    `id` Int32,',
          '    `name` String,',
          '    `arr` Array(Int64),',
          '    `day` Date,',
          '    `maybe` Nullable(Decimal(10, 2))',
        ].join('\n'),
      }),
    );
    project.writeDatasource(
      'pq_widened',
      importDatasource(`s3://${bucket}/pq/part-*.parquet`, {
        schema: ['    `id` Int128,', '    `name` LowCardinality(String),', '    `day` Date32,', '    `maybe` Float64'].join('\n'),
      }),
    );
    // The engine writes the objects, so the store must be open first; push comes after.
    app = await openTestApp(project.dir);
    await putParquet(app, bucket, 'pq/part-1.parquet', 0, 1000);
    await new Promise((r) => setTimeout(r, 1050));
    await putParquet(app, bucket, 'pq/part-2.parquet', 1000, 1000);
    await putObjects(s3, bucket, { 'pq/broken.parquet': 'id,name\n1,this is CSV, not Parquet\n' });
  });
  afterAll(async () => {
    await closeTestApp();
    project.remove();
  });

  it('infers the schema from the oldest Parquet object and reads every type back exactly', async () => {
    const pushed = await pushProject(app, { dryRun: false });
    const step = pushed.steps.find((s) => s.datasource === 'pq_inferred');
    expect(step?.action).toBe('create_tables');
    expect(step?.reference?.key).toBe('pq/part-1.parquet');
    const columns = await query<{ name: string; type: string }>(
      app,
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'pq_inferred' AND NOT startsWith(name, '_bp_') ORDER BY position`,
    );
    expect(columns).toEqual([
      { name: 'id', type: 'UInt64' },
      { name: 'name', type: 'String' },
      { name: 'arr', type: 'Array(UInt64)' },
      { name: 'day', type: 'Date32' },
      { name: 'maybe', type: 'Nullable(Float64)' },
    ]);
    // The embedded store merges the data table column by column (the worker's memory), whatever its width.
    const [created] = await query<{ ddl: string }>(app, `SELECT create_table_query AS ddl FROM system.tables WHERE database = currentDatabase() AND name = 'pq_inferred'`);
    expect(created!.ddl).toMatch(/SETTINGS .*vertical_merge_algorithm_min_columns_to_activate = 1/);

    const report = await importHere(app, 'pq_inferred', { trigger: 'on-demand' });
    expect(report.objects.map((o) => o.error?.message)).toEqual([undefined, undefined]);
    expect(report.status).toBe('ok');
    expect(report.objects.map((o) => o.rows)).toEqual([1000, 1000]);
    expect(report.quarantined).toBe(0);

    const [totals] = await query<{ n: number; ids: number; distinct_ids: number; nulls: number; maybe_sum: number; first_day: string; last_day: string }>(
      app,
      `SELECT count() AS n, sum(id) AS ids, uniqExact(id) AS distinct_ids, countIf(maybe IS NULL) AS nulls, sum(maybe) AS maybe_sum,
              toString(min(day)) AS first_day, toString(max(day)) AS last_day FROM pq_inferred`,
    );
    expect(totals).toEqual({ n: N, ids: SUM_ID, distinct_ids: N, nulls: NULLS, maybe_sum: SUM_MAYBE, first_day: dayOf(0), last_day: dayOf(N - 1) });
    expect(await query(app, 'SELECT id, name, arr, day, maybe FROM pq_inferred WHERE id IN (0, 5, 1000, 1999) ORDER BY id')).toEqual([
      { id: 0, name: '0', arr: [0, 1], day: dayOf(0), maybe: null },
      { id: 5, name: '5', arr: [5, 6], day: dayOf(5), maybe: 7.5 },
      { id: 1000, name: '1000', arr: [1000, 1001], day: dayOf(1000), maybe: 1500 },
      { id: 1999, name: '1999', arr: [1999, 2000], day: dayOf(1999), maybe: 2998.5 },
    ]);
    // Every row's array and date agree with its id.
    const [mismatch] = await query<{ n: number }>(
      app,
      `SELECT countIf(arr != [id, id + 1] OR day != toDate('2024-01-01') + id OR name != toString(id)) AS n FROM pq_inferred`,
    );
    expect(mismatch!.n).toBe(0);
  });

  it('inserts columns that widen losslessly (wider integer, LowCardinality, NULL as default) with every value intact', async () => {
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'pq_widened', { trigger: 'on-demand' });
    expect(report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 1000, 0], ['imported', 1000, 0]]);
    const columns = await query<{ type: string }>(
      app,
      `SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'pq_widened' AND NOT startsWith(name, '_bp_') ORDER BY position`,
    );
    expect(columns.map((c) => c.type)).toEqual(['Int128', 'LowCardinality(String)', 'Date32', 'Float64']);
    const [totals] = await query<{ n: number; ids: string; zeros: number; maybe_sum: number; mismatch: number }>(
      app,
      `SELECT count() AS n, toString(sum(id)) AS ids, countIf(maybe = 0) AS zeros, sum(maybe) AS maybe_sum,
              countIf(name != toString(id) OR day != toDate32('2024-01-01') + toInt32(id)) AS mismatch FROM pq_widened`,
    );
    // NULL in the non-Nullable column became its default (0); id 0 has maybe NULL too.
    expect(totals).toEqual({ n: N, ids: String(SUM_ID), zeros: NULLS, maybe_sum: SUM_MAYBE, mismatch: 0 });
  });

  it('casts Parquet columns into a declared SCHEMA of other types; an object that is not Parquet fails alone', async () => {
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'pq_typed', { trigger: 'on-demand' });
    const byKey = new Map(report.objects.map((o) => [o.uri, o]));
    const broken = `s3://${bucket}/pq/broken.parquet`;
    expect([...byKey.keys()].sort()).toEqual([broken, `s3://${bucket}/pq/part-1.parquet`, `s3://${bucket}/pq/part-2.parquet`]);
    expect(byKey.get(broken)?.status).toBe('failed');
    expect(byKey.get(broken)?.error?.message).toContain(broken);
    expect(byKey.get(`s3://${bucket}/pq/part-1.parquet`)).toMatchObject({ status: 'imported', rows: 1000, quarantined: 0 });
    expect(byKey.get(`s3://${bucket}/pq/part-2.parquet`)).toMatchObject({ status: 'imported', rows: 1000, quarantined: 0 });
    expect(report.status).toBe('partial');
    expect(report.rows).toBe(N);

    const columns = await query<{ name: string; type: string }>(
      app,
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'pq_typed' AND NOT startsWith(name, '_bp_') ORDER BY position`,
    );
    expect(columns.map((c) => c.type)).toEqual(['Int32', 'String', 'Array(Int64)', 'Date', 'Nullable(Decimal(10, 2))']);
    const [totals] = await query<{ n: number; ids: number; nulls: number; maybe_sum: string; first_day: string; last_day: string }>(
      app,
      `SELECT count() AS n, sum(id) AS ids, countIf(maybe IS NULL) AS nulls, toString(sum(maybe)) AS maybe_sum,
              toString(min(day)) AS first_day, toString(max(day)) AS last_day FROM pq_typed`,
    );
    expect({ ...totals, maybe_sum: Number(totals!.maybe_sum) }).toEqual({
      n: N,
      ids: SUM_ID,
      nulls: NULLS,
      maybe_sum: SUM_MAYBE,
      first_day: dayOf(0),
      last_day: dayOf(N - 1),
    });
    expect(await query(app, 'SELECT id, name, arr, day, toString(maybe) AS maybe FROM pq_typed WHERE id IN (0, 7, 1999) ORDER BY id')).toEqual([
      { id: 0, name: '0', arr: [0, 1], day: dayOf(0), maybe: null },
      { id: 7, name: '7', arr: [7, 8], day: dayOf(7), maybe: expect.stringMatching(/^10\.50?$/) },
      { id: 1999, name: '1999', arr: [1999, 2000], day: dayOf(1999), maybe: expect.stringMatching(/^2998\.50?$/) },
    ]);

    // Nothing of the broken object is in either table; the ledger says it failed.
    const [left] = await query<{ data: number; quarantine: number }>(
      app,
      `SELECT (SELECT count() FROM pq_typed WHERE _bp_import_id NOT IN (SELECT import_id FROM _bucketpipe_objects WHERE datasource = 'pq_typed' AND status = 'done')) AS data,
              (SELECT count() FROM pq_typed_quarantine) AS quarantine`,
    );
    expect(left).toEqual({ data: 0, quarantine: 0 });
    const ledger = await query<{ key: string; status: string }>(
      app,
      `SELECT key, status FROM _bucketpipe_objects WHERE datasource = 'pq_typed' ORDER BY key`,
    );
    expect(ledger).toEqual([
      { key: 'pq/broken.parquet', status: 'failed' },
      { key: 'pq/part-1.parquet', status: 'done' },
      { key: 'pq/part-2.parquet', status: 'done' },
    ]);
  });
});
