import { importHere } from '../../src/worker/run-here.js';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

async function columnsOf(app: App, table: string): Promise<Array<{ name: string; type: string }>> {
  return query(
    app,
    `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String} AND NOT startsWith(name, '_bp_') ORDER BY position`,
    { table },
  );
}

async function eventsOf(app: App, datasource: string, event: string): Promise<Array<{ object: string; message: string }>> {
  return query(app, `SELECT object, message FROM _bucketpipe_events WHERE datasource = {ds:String} AND event = {event:String} ORDER BY time`, {
    ds: datasource,
    event,
  });
}

const QUARANTINE_TAIL = [
  { name: 'c__error_column', type: 'Array(String)' },
  { name: 'c__error', type: 'Array(String)' },
  { name: 'c__import_id', type: 'String' },
  { name: 'c__source', type: 'String' },
  { name: 'c__row', type: 'UInt64' },
  { name: 'c__raw', type: 'Nullable(String)' },
  { name: 'insertion_date', type: 'DateTime' },
];

describe('schema evolution', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('adds the new columns of later objects as Nullable, to the quarantine table as text, and logs it', async () => {
    await putObjects(s3, bucket, { 'evo/1.csv': 'a,b\n1,x\n2,y\n' });
    project.writeDatasource('evo', importDatasource(`s3://${bucket}/evo/*.csv`));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    expect(await columnsOf(app, 'evo')).toEqual([
      { name: 'a', type: 'Int64' },
      { name: 'b', type: 'String' },
    ]);
    const first = await importHere(app, 'evo', { trigger: 'on-demand' });
    expect(first.status).toBe('ok');
    expect(first.rows).toBe(2);

    // One run: an object with a new numeric column, then one without b (and a value of c that does not fit).
    await putObjects(s3, bucket, { 'evo/2.csv': 'a,b,c\n3,z,1.5\n', 'evo/3.csv': 'a,c\n4,2.5\n5,abc\n' }, { spaced: true });
    const second = await importHere(app, 'evo', { trigger: 'on-demand' });
    expect(second.objects.map((o) => o.error?.message)).toEqual([undefined, undefined]);
    expect(second.objects.map((o) => [o.uri, o.rows, o.quarantined, o.addedColumns])).toEqual([
      [`s3://${bucket}/evo/2.csv`, 1, 0, ['c']],
      [`s3://${bucket}/evo/3.csv`, 1, 1, []],
    ]);

    expect(await columnsOf(app, 'evo')).toEqual([
      { name: 'a', type: 'Int64' },
      { name: 'b', type: 'String' },
      { name: 'c', type: 'Nullable(Float64)' },
    ]);
    expect(await columnsOf(app, 'evo_quarantine')).toEqual([
      { name: 'a', type: 'Nullable(String)' },
      { name: 'b', type: 'Nullable(String)' },
      { name: 'c', type: 'Nullable(String)' },
      ...QUARANTINE_TAIL,
    ]);
    expect(await query(app, 'SELECT a, b, c FROM evo ORDER BY a')).toEqual([
      { a: 1, b: 'x', c: null },
      { a: 2, b: 'y', c: null },
      { a: 3, b: 'z', c: 1.5 },
      { a: 4, b: '', c: 2.5 },
    ]);
    const quarantined = await query<{ a: string; b: string | null; c: string; c__error_column: string[]; c__row: number }>(
      app,
      'SELECT a, b, c, c__error_column, c__row FROM evo_quarantine',
    );
    expect(quarantined).toEqual([{ a: '5', b: null, c: 'abc', c__error_column: ['c'], c__row: 2 }]);

    const added = await eventsOf(app, 'evo', 'columns_added');
    expect(added).toHaveLength(1);
    expect(added[0]!.object).toBe(`s3://${bucket}/evo/2.csv`);
    expect(added[0]!.message).toMatch(/\bc Nullable\(Float64\)/);

    // A later run with the evolved table loads old-shape objects too.
    await putObjects(s3, bucket, { 'evo/4.csv': 'a,b\n6,w\n' });
    const third = await importHere(app, 'evo', { trigger: 'on-demand' });
    expect(third.objects.map((o) => [o.rows, o.addedColumns, o.error?.message])).toEqual([[1, [], undefined]]);
    expect(await query(app, 'SELECT a, b, c FROM evo WHERE a = 6')).toEqual([{ a: 6, b: 'w', c: null }]);
    expect(await eventsOf(app, 'evo', 'columns_added')).toHaveLength(1);
  });

  it('keeps the declared SCHEMA: extra columns are ignored, not added, and the run says so', async () => {
    await putObjects(s3, bucket, { 'fixed/1.csv': 'a,b\n1,x\n', 'fixed/2.csv': 'a,b,extra\n2,y,9\n' }, { spaced: true });
    project.writeDatasource('fixed', importDatasource(`s3://${bucket}/fixed/*.csv`, { schema: '    `a` Int64,\n    `b` String' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'fixed', { trigger: 'on-demand' });
    expect(report.status).toBe('ok');
    expect(report.objects.map((o) => [o.rows, o.quarantined, o.addedColumns])).toEqual([
      [1, 0, []],
      [1, 0, []],
    ]);
    expect(await columnsOf(app, 'fixed')).toEqual([
      { name: 'a', type: 'Int64' },
      { name: 'b', type: 'String' },
    ]);
    expect(await columnsOf(app, 'fixed_quarantine')).toEqual([
      { name: 'a', type: 'Nullable(String)' },
      { name: 'b', type: 'Nullable(String)' },
      ...QUARANTINE_TAIL,
    ]);
    expect(await query(app, 'SELECT * FROM fixed ORDER BY a')).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    expect(await eventsOf(app, 'fixed', 'columns_added')).toEqual([]);
    const ignored = await eventsOf(app, 'fixed', 'columns_ignored');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]!.object).toBe(`s3://${bucket}/fixed/2.csv`);
    expect(ignored[0]!.message).toMatch(/\bextra\b/);
  });
});
