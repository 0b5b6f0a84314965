import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import type { ImportReport } from '../../src/importer/sync-datasource.js';
import { importHere } from '../../src/worker/run-here.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { openTestApp, query, s3Endpoint, useServerStore, withBucketAndProject } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

useServerStore();

interface StageRecord { stage?: string; object?: string; outcome?: string; via?: string }

/** Imports `name` with a debug logger that keeps every stage record, to see which way each object was loaded. */
async function importRecording(app: App, name: string): Promise<{ report: ImportReport; records: StageRecord[] }> {
  const records: StageRecord[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as StageRecord);
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const report = await importHere(app, name, { trigger: 'on-demand' }, { adjust: (ctx) => ({ ...ctx, log }) });
  return { report, records };
}

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
      expect(tags.map((t) => t.tag)).toEqual([expect.stringMatching(/^imp_/)]);
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

  it('removes what a stopped read had written to the server before the split loads the object', async () => {
    // The server writes a part per 1,048,576 rows it takes: a bad row past them stops a read that wrote some.
    const lines = ['id,v'];
    for (let i = 1; i <= 1_100_000; i++) lines.push(`${i},${i % 7}`);
    lines.push('x,1');
    await putObjects(s3, bucket, { 'big/a.csv': `${lines.join('\n')}\n` });
    project.writeDatasource('big', importDatasource(`s3://${bucket}/big/*.csv`, { schema: '    `id` UInt64,\n    `v` UInt8' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const { report, records } = await importRecording(app, 'big');
    expect(directOutcomes(records)).toEqual([['typed', 'stopped']]);
    expect(report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 1_100_000, 1]]);
    expect(await query(app, 'SELECT count() AS n, uniqExact(id) AS ids, uniqExact(_bp_import_id) AS tags FROM big')).toEqual([{ n: 1_100_000, ids: 1_100_000, tags: 1 }]);
    // The stopped read had written rows: they were removed (a mutation) before the split's rows came.
    expect(await query(app, "SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = 'big' AND is_done = 1")).toEqual([{ n: 1 }]);
  });
});
