import { describe, expect, it } from 'vitest';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { importRecording, type StageRecord } from '../helpers/import-recording.js';
import { openTestApp, query, s3Endpoint, useServerStore, withBucketAndProject } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

useServerStore();

const directOutcomes = (records: StageRecord[]) => records.filter((r) => r.stage === 'direct_read').map((r) => [r.via, r.outcome]);

/**
 * With a server as the store, an object whose rows all fit streams from the worker's engine straight
 * into the server's table; one with a row that does not fit (by its type, or by the server's own
 * limits) is loaded by the split instead, and what the direct read had sent is gone.
 */
describe('direct read into a ClickHouse server', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('streams CSV and NDJSON objects whose rows fit straight into the server, tagged, and counts them there', async () => {
    await putObjects(s3, bucket, {
      'fit/a.csv': 'id,name,at\n1,ann,2024-01-01 10:00:00\n2,"b, ""quoted""",2105-12-31 23:59:59\n3,,1970-01-02 00:00:00\n',
      'fitj/a.ndjson': '{"id":1,"name":"ann","at":"2024-01-01T10:00:00Z"}\n{"id":"2","name":null,"at":"2024-01-02 00:00:00"}\n',
    });
    const schema = '    `id` UInt32,\n    `name` Nullable(String),\n    `at` DateTime(\'UTC\')';
    project.writeDatasource('fit_csv', importDatasource(`s3://${bucket}/fit/*.csv`, { schema }));
    project.writeDatasource('fit_json', importDatasource(`s3://${bucket}/fitj/*.ndjson`, { schema }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const csv = await importRecording(app, 'fit_csv');
    expect(directOutcomes(csv.records)).toEqual([['typed', 'loaded']]);
    expect(csv.report.objects.map((o) => [o.status, o.records, o.rows, o.quarantined])).toEqual([['imported', 4, 3, 0]]);
    expect(await query(app, "SELECT id, name, toString(at) AS at FROM fit_csv ORDER BY id")).toEqual([
      { id: 1, name: 'ann', at: '2024-01-01 10:00:00' },
      { id: 2, name: 'b, "quoted"', at: '2105-12-31 23:59:59' },
      { id: 3, name: null, at: '1970-01-02 00:00:00' },
    ]);

    const json = await importRecording(app, 'fit_json');
    expect(directOutcomes(json.records)).toEqual([['checked', 'loaded']]);
    expect(json.report.objects.map((o) => [o.status, o.records, o.rows, o.quarantined])).toEqual([['imported', 2, 2, 0]]);
    expect(await query(app, "SELECT id, name, toString(at) AS at FROM fit_json ORDER BY id")).toEqual([
      { id: 1, name: 'ann', at: '2024-01-01 10:00:00' },
      { id: 2, name: null, at: '2024-01-02 00:00:00' },
    ]);
    // Every row carries its import's tag, as the split's ship gives it.
    for (const table of ['fit_csv', 'fit_json']) {
      const tags = await query<{ tag: string }>(app, `SELECT DISTINCT _bp_import_id AS tag FROM ${table}`);
      const committed = await query<{ id: string }>(app, `SELECT DISTINCT import_id AS id FROM _bucketpipe_ledger WHERE datasource = '${table}' AND status = 'done'`);
      expect(tags.map((t) => t.tag)).toEqual(committed.map((c) => c.id));
    }
  });

  it('leaves an object with a row that does not fit to the split: a bad value, and a time after the last day the server reads', async () => {
    await putObjects(s3, bucket, { 'late/a.csv': 'id,name,at\n1,ann,2024-01-01 10:00:00\n2,bo,2106-01-01 00:00:00\n3,cy,x\n4,dee,2024-01-04 00:00:00\n' });
    project.writeDatasource('late', importDatasource(`s3://${bucket}/late/*.csv`, { schema: '    `id` UInt32,\n    `name` String,\n    `at` DateTime(\'UTC\')' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const { report, records } = await importRecording(app, 'late');
    expect(directOutcomes(records)).toEqual([['typed', 'stopped']]);
    expect(report.objects.map((o) => [o.status, o.records, o.rows, o.quarantined])).toEqual([['imported', 5, 2, 2]]);
    expect(await query(app, 'SELECT id, name FROM late ORDER BY id')).toEqual([{ id: 1, name: 'ann' }, { id: 4, name: 'dee' }]);
    const rejected = await query<{ c__row: number | string; c__error: string[] }>(app, 'SELECT c__row, c__error FROM late_quarantine ORDER BY c__row');
    expect(rejected.map((r) => [Number(r.c__row), r.c__error.join(' ')])).toEqual([
      [2, expect.stringContaining('is after 2105-12-31')],
      [3, expect.stringContaining('is not a valid DateTime')],
    ]);
  });

  it('reads Parquet times into a DateTime column straight into the server, and leaves a time after 2105 to the split', async () => {
    project.writeDatasource('pq_times', importDatasource(`s3://${bucket}/pqt/*.parquet`, { schema: '    `id` UInt64,\n    `at` DateTime(\'UTC\')' }));
    const app = await openTestApp(project.dir);
    const engine = (await app.importContext('pq_times')).engine;
    const putParquet = (key: string, times: string) =>
      engine.command({
        query:
          `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'Parquet') ` +
          `SELECT toUInt64(number + 1) AS id, CAST([${times}][number + 1], 'Nullable(DateTime64(3, \\'UTC\\'))') AS at FROM numbers(3) SETTINGS s3_truncate_on_insert = 1`,
        query_params: { url: `${s3Endpoint()}/${bucket}/${key}`, k: S3_KEY, s: S3_SECRET },
      });
    await putParquet('pqt/a.parquet', "'2024-01-01 10:00:00.999', NULL, '2105-12-31 23:59:59.999'");
    await pushProject(app, { dryRun: false });
    const first = await importRecording(app, 'pq_times');
    expect(directOutcomes(first.records)).toEqual([['typed', 'loaded']]);
    expect(first.report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 3, 0]]);
    // The split's values: the instant cut to the second, and NULL as the type's default.
    expect(await query(app, 'SELECT id, toUInt32(at) AS at FROM pq_times ORDER BY id')).toEqual([
      { id: 1, at: Date.UTC(2024, 0, 1, 10) / 1000 },
      { id: 2, at: 0 },
      { id: 3, at: Date.UTC(2105, 11, 31, 23, 59, 59) / 1000 },
    ]);

    await putParquet('pqt/b.parquet', "'2024-01-02 00:00:00', '2106-01-01 00:00:00', '1969-12-31 23:59:59.500'");
    const second = await importRecording(app, 'pq_times');
    expect(directOutcomes(second.records)).toEqual([['typed', 'stopped']]);
    expect(second.report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 1, 2]]);
    const rejected = await query<{ id: string; c__error: string[] }>(app, 'SELECT id, c__error FROM pq_times_quarantine ORDER BY id');
    expect(rejected.map((r) => [r.id, r.c__error.join(' ')])).toEqual([
      ['2', expect.stringContaining('is after 2105-12-31')],
      ['3', expect.stringContaining('is not a valid DateTime')],
    ]);
  });

  it('removes what a stopped read had written to the server before the split loads the object', async () => {
    // The server writes a part per 1,048,576 rows it takes: a bad row well past them (the engine reads
    // blocks in parallel) stops a read that wrote some.
    const lines = ['id,v'];
    for (let i = 1; i <= 2_500_000; i++) lines.push(`${i},${i % 7}`);
    lines.push('x,1');
    await putObjects(s3, bucket, { 'big/a.csv': `${lines.join('\n')}\n` });
    project.writeDatasource('big', importDatasource(`s3://${bucket}/big/*.csv`, { schema: '    `id` UInt64,\n    `v` UInt8' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const { report, records } = await importRecording(app, 'big');
    expect(directOutcomes(records)).toEqual([['typed', 'stopped']]);
    expect(report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 2_500_000, 1]]);
    expect(await query(app, 'SELECT count() AS n, uniqExact(id) AS ids, uniqExact(_bp_import_id) AS tags FROM big')).toEqual([{ n: 2_500_000, ids: 2_500_000, tags: 1 }]);
    // The stopped read had written rows: they were removed (a mutation) before the split's rows came.
    expect(await query(app, "SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = 'big' AND is_done = 1")).toEqual([{ n: 1 }]);
  });
});
