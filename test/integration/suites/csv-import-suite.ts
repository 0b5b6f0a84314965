import { importHere } from '../../../src/worker/run-here.js';
import { describe, expect, it } from 'vitest';
import { pushProject } from '../../../src/push/push-project.js';
import { putObjects, s3Client } from '../../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint, testEnv } from '../../helpers/embedded.js';
import { runCli } from '../../helpers/cli.js';
import { importDatasource, type TestProjectDir } from '../../helpers/project.js';
import { until } from '../../helpers/scheduler-project.js';

/** The CSV import suite, run against every store (see import-csv*.test.ts). */
export function defineCsvImportSuite(store: string): void {
  describe(`CSV import (${store})`, () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('infers the schema at push from the oldest object, keeps leading zeros as text and loads every dialect', async () => {
    await putObjects(
      s3,
      bucket,
      {
        'dialects/a.csv': 'id,zip,city,score\n1,00501,Holtsville,1.5\n2,02134,Boston,\n',
        'dialects/b.csv': '\uFEFFid;zip;city;score\r\n3;10001;"New York; NY";2.25\r\n',
        'dialects/c.csv': 'id\tzip\tcity\tscore\n4\t94105\t"San\nFrancisco"\t3\n',
        'dialects/d.csv': 'id|zip|city|score\n5|60601|Chicago|4\n',
      },
      { spaced: true },
    );
    project.writeDatasource('dialects', importDatasource(`s3://${bucket}/dialects/*.csv`));
    const app = await openTestApp(project.dir);
    const pushed = await pushProject(app, { dryRun: false });
    const create = pushed.steps.find((s) => s.datasource === 'dialects');
    expect(create?.action).toBe('create_tables');
    expect(create?.reference?.key).toBe('dialects/a.csv');
    const columns = await query<{ name: string; type: string }>(
      app,
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'dialects' AND NOT startsWith(name, '_bp_')`,
    );
    expect(columns).toEqual([
      { name: 'id', type: 'Int64' },
      { name: 'zip', type: 'String' },
      { name: 'city', type: 'String' },
      { name: 'score', type: 'Nullable(Float64)' },
    ]);

    const report = await importHere(app, 'dialects', { trigger: 'on-demand' });
    expect(report.objects.map((o) => o.error?.message)).toEqual([undefined, undefined, undefined, undefined]);
    expect(report.status).toBe('ok');
    expect(report.objects.map((o) => o.rows)).toEqual([2, 1, 1, 1]);
    const rows = await query(app, 'SELECT id, zip, city, score FROM dialects ORDER BY id');
    expect(rows).toEqual([
      { id: 1, zip: '00501', city: 'Holtsville', score: 1.5 },
      { id: 2, zip: '02134', city: 'Boston', score: null },
      { id: 3, zip: '10001', city: 'New York; NY', score: 2.25 },
      { id: 4, zip: '94105', city: 'San\nFrancisco', score: 3 },
      { id: 5, zip: '60601', city: 'Chicago', score: 4 },
    ]);

    const again = await pushProject(app, { dryRun: false });
    expect(again.steps.filter((s) => s.datasource === 'dialects').map((s) => s.action)).toEqual(['unchanged']);
  });

  it('quarantines rows that do not fit, with the column, the reason and the row number, and loads the rest', async () => {
    await putObjects(s3, bucket, {
      'bad/rows.csv': ['n,amount,day', '1,10,2024-01-01', '2,ten,2024-01-02', '3,30', '4,40,2024-13-45', '5,50,2024-01-05', ''].join('\n'),
    });
    project.writeDatasource(
      'bad_rows',
      importDatasource(`s3://${bucket}/bad/*.csv`, { schema: '    `n` Int32,\n    `amount` Int64,\n    `day` Date' }),
    );
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'bad_rows', { trigger: 'on-demand' });
    expect(report.error?.message).toBeUndefined();
    expect(report.status).toBe('ok');
    expect(report.rows).toBe(2);
    expect(report.quarantined).toBe(3);
    expect(await query(app, 'SELECT n, amount, day FROM bad_rows ORDER BY n')).toEqual([
      { n: 1, amount: 10, day: '2024-01-01' },
      { n: 5, amount: 50, day: '2024-01-05' },
    ]);
    const quarantined = await query<{ n: string | null; c__error_column: string[]; c__error: string[]; c__row: string; c__raw: string | null; c__source: string }>(
      app,
      'SELECT n, c__error_column, c__error, c__row, c__raw, c__source FROM bad_rows_quarantine ORDER BY c__row',
    );
    expect(quarantined.map((q) => Number(q.c__row))).toEqual([2, 3, 4]);
    expect(quarantined[0]).toMatchObject({ n: '2', c__error_column: ['amount'], c__raw: null, c__source: `s3://${bucket}/bad/rows.csv` });
    expect(quarantined[0]!.c__error[0]).toContain('"ten" is not a valid Int64');
    expect(quarantined[1]).toMatchObject({ n: null, c__error_column: [], c__raw: '3,30' });
    expect(quarantined[1]!.c__error[0]).toMatch(/^malformed row/);
    expect(quarantined[2]).toMatchObject({ n: '4', c__error_column: ['day'] });
  });

  it('keeps odd column names exactly and quotes them everywhere', async () => {
    const names = ['order id', 'price $', 'say "hi"', 'back`tick', 'naïve ünïcode', 'semi;colon', 'dash--dash', 'select'];
    const header = names.map((n) => `"${n.replace(/"/g, '""')}"`).join(',');
    await putObjects(s3, bucket, { 'odd/names.csv': `${header}\n1,2.5,a,b,c,d,e,f\n` });
    project.writeDatasource('odd_names', importDatasource(`s3://${bucket}/odd/*.csv`));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'odd_names', { trigger: 'on-demand' });
    expect(report.status).toBe('ok');
    const rows = await query<Record<string, unknown>>(app, 'SELECT * FROM odd_names');
    expect(Object.keys(rows[0]!)).toEqual(names);
    expect(rows[0]!['order id']).toBe(1);
    expect(rows[0]!['back`tick']).toBe('b');
    expect(rows[0]!['select']).toBe('f');
  });

  it('reads headers with repeated and empty names, all-text files declared to have one, and files without a header', async () => {
    await putObjects(s3, bucket, {
      'messy/a-dups.csv': 'id,name,name,,value\n1,a,b,c,10\n2,d,e,f,20\n',
      'messy/b-dups.csv': 'id,name,name,,value,extra\n3,g,h,i,30,x\n',
    }, { spaced: true });
    await putObjects(s3, bucket, {
      'text/people.csv': 'first name,city\nAda,London\nGrace,Arlington\n',
      'nohead/values.csv': '1,alpha,2024-01-01\n2,beta,2024-01-02\n',
    });
    project.writeDatasource('messy', importDatasource(`s3://${bucket}/messy/*.csv`));
    // Text over text: only IMPORT_CSV_HEADER can say that the first row names the columns.
    project.writeDatasource('all_text', importDatasource(`s3://${bucket}/text/*.csv`, { more: 'IMPORT_CSV_HEADER true' }));
    project.writeDatasource('no_header', importDatasource(`s3://${bucket}/nohead/*.csv`));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    for (const name of ['messy', 'all_text', 'no_header']) {
      const report = await importHere(app, name, { trigger: 'on-demand' });
      expect(report.objects.map((o) => o.error?.message)).toEqual(report.objects.map(() => undefined));
    }
    expect(await query(app, 'SELECT * FROM messy ORDER BY id')).toEqual([
      { id: 1, name: 'a', name_2: 'b', column_4: 'c', value: 10, extra: null },
      { id: 2, name: 'd', name_2: 'e', column_4: 'f', value: 20, extra: null },
      { id: 3, name: 'g', name_2: 'h', column_4: 'i', value: 30, extra: 'x' },
    ]);
    expect(await query(app, 'SELECT * FROM all_text ORDER BY city')).toEqual([
      { 'first name': 'Grace', city: 'Arlington' },
      { 'first name': 'Ada', city: 'London' },
    ]);
    expect(await query(app, 'SELECT c1, c2, toString(c3) AS c3 FROM no_header ORDER BY c1')).toEqual([
      { c1: 1, c2: 'alpha', c3: '2024-01-01' },
      { c1: 2, c2: 'beta', c3: '2024-01-02' },
    ]);
  });

  it('reads a CSV without a header, or with other names, by position against a declared SCHEMA', async () => {
    await putObjects(s3, bucket, { 'positional/a.csv': '1,alpha,2.5\n2,beta,\n', 'positional/b.csv': 'ID,NAME_OF_THING,VALUE_X\n3,gamma,7\n' });
    project.writeDatasource('positional', importDatasource(`s3://${bucket}/positional/*.csv`, { schema: '    `id` UInt32,\n    `label` String,\n    `value` Nullable(Float64)' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'positional', { trigger: 'on-demand' });
    expect(report.status).toBe('ok');
    expect(await query(app, 'SELECT id, label, value FROM positional ORDER BY id')).toEqual([
      { id: 1, label: 'alpha', value: 2.5 },
      { id: 2, label: 'beta', value: null },
      { id: 3, label: 'gamma', value: 7 },
    ]);
    const events = await query<{ n: number }>(app, "SELECT count() AS n FROM _bucketpipe_events WHERE datasource = 'positional' AND event = 'columns_by_position'");
    expect(events).toEqual([{ n: 2 }]);
  });

  it('with a SCHEMA, takes a first row for a header only when it names the columns: every other first row is data', async () => {
    await putObjects(s3, bucket, {
      'named/a.csv': 'alice,paris\nbob,rome\n',
      'named/b.csv': 'dave,lima\n',
      'named/c.csv': 'name,city\ncarol,oslo\n',
      'named/d.csv': ' NAME ,City\r\nerin,kyiv\r\n',
    });
    project.writeDatasource('named', importDatasource(`s3://${bucket}/named/*.csv`, { schema: '    `name` String,\n    `city` String' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'named', { trigger: 'on-demand' });
    expect(report.objects.map((o) => o.error?.message)).toEqual([undefined, undefined, undefined, undefined]);
    expect({ status: report.status, rows: report.rows, quarantined: report.quarantined }).toEqual({ status: 'ok', rows: 5, quarantined: 0 });
    expect(await query(app, 'SELECT name, city FROM named ORDER BY name')).toEqual([
      { name: 'alice', city: 'paris' },
      { name: 'bob', city: 'rome' },
      { name: 'carol', city: 'oslo' },
      { name: 'dave', city: 'lima' },
      { name: 'erin', city: 'kyiv' },
    ]);
    // Every record read is a row, and only the lines that name the columns are header lines.
    const figures = Object.fromEntries(report.objects.map((o) => [o.uri.split('/').pop(), [o.records, o.headerLines, o.rows, o.quarantined]]));
    expect(figures).toEqual({ 'a.csv': [2, 0, 2, 0], 'b.csv': [1, 0, 1, 0], 'c.csv': [2, 1, 1, 0], 'd.csv': [2, 1, 1, 0] });
    const messages = await query<{ message: string }>(app, "SELECT message FROM _bucketpipe_events WHERE datasource = 'named' AND event = 'object_imported' ORDER BY message");
    expect(messages.map((m) => m.message)).toEqual([
      `s3://${bucket}/named/a.csv: 2 rows imported, 0 quarantined, of 2 records read`,
      `s3://${bucket}/named/b.csv: 1 rows imported, 0 quarantined, of 1 records read`,
      `s3://${bucket}/named/c.csv: 1 rows imported, 0 quarantined, of 2 records read (1 a header line)`,
      `s3://${bucket}/named/d.csv: 1 rows imported, 0 quarantined, of 2 records read (1 a header line)`,
    ]);
  });

  it('without a SCHEMA, reads an all-text first row as data, says so at push, and reads every object of the datasource the same way', async () => {
    // 1.csv is the oldest, so the reference the columns are inferred from.
    await putObjects(s3, bucket, { 'guess/1.csv': 'alice,paris\nbob,rome\n', 'guess/2.csv': 'dave,lima\neve,quito\n', 'guess/3.csv': 'name,city\ncarol,oslo\n' }, { spaced: true });
    project.writeDatasource('guessed', importDatasource(`s3://${bucket}/guess/*.csv`));
    project.writeDatasource('declared_header', importDatasource(`s3://${bucket}/guess/1.csv`, { more: 'IMPORT_CSV_HEADER true' }));
    const app = await openTestApp(project.dir);
    // preview, before anything is made, says it too (another process, reaching this store).
    const preview = await runCli(['datasource', 'preview', 'guessed'], { cwd: project.dir, env: testEnv() });
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^First row of each CSV object: cannot tell whether the first row of s3:\/\/.*\/guess\/1\.csv \("alice", "paris"\) is a header/m);
    expect(preview.stdout).toMatch(/^c1 +String$/m);
    const pushed = await pushProject(app, { dryRun: false });
    const notes = pushed.warnings.filter((w) => w.includes('cannot tell whether the first row'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^datasources\/guessed\.datasource:\d+: cannot tell whether the first row of s3:\/\/.*\/guess\/1\.csv \("alice", "paris"\) is a header/);
    expect(notes[0]).toContain('write IMPORT_CSV_HEADER true if it names the columns');

    const guessed = await importHere(app, 'guessed', { trigger: 'on-demand' });
    expect(guessed.objects.map((o) => o.error?.message)).toEqual([undefined, undefined, undefined]);
    expect(guessed.objects.map((o) => [o.records, o.headerLines, o.rows])).toEqual([[2, 0, 2], [2, 0, 2], [2, 0, 2]]);
    // 6 input rows, 6 table rows, over the 2 columns of the reference: no first row became column names.
    expect(await query(app, 'SELECT * FROM guessed ORDER BY c1')).toEqual([
      { c1: 'alice', c2: 'paris' },
      { c1: 'bob', c2: 'rome' },
      { c1: 'carol', c2: 'oslo' },
      { c1: 'dave', c2: 'lima' },
      { c1: 'eve', c2: 'quito' },
      { c1: 'name', c2: 'city' },
    ]);
    const declared = await importHere(app, 'declared_header', { trigger: 'on-demand' });
    expect(declared.status).toBe('ok');
    expect(await query(app, 'SELECT * FROM declared_header')).toEqual([{ alice: 'bob', paris: 'rome' }]);
    // The decision is recorded with the tables: a second push has nothing to weigh or to say.
    const again = await pushProject(app, { dryRun: false });
    expect(again.warnings.filter((w) => w.includes('cannot tell'))).toEqual([]);
    expect(again.steps.filter((s) => s.datasource === 'guessed').map((s) => s.action)).toEqual(['unchanged']);
    expect(await query(app, "SELECT csv_header FROM _bucketpipe_datasources FINAL WHERE name IN ('guessed', 'declared_header') ORDER BY name")).toEqual([
      { csv_header: 'true' },
      { csv_header: 'false' },
    ]);
  });

  it('fails an object whose rows do not add up, with its figures, and keeps nothing of it (a test-only fault drops a row in the split)', async () => {
    await putObjects(s3, bucket, { 'fault/a.csv': 'n,amount\n1,10\n2,ten\n3,30\n' });
    project.writeDatasource('faulty', importDatasource(`s3://${bucket}/fault/*.csv`, { schema: '    `n` Int32,\n    `amount` Int64' }));
    const app = await openTestApp(project.dir, { BUCKETPIPE_TEST_FAULT: 'drop-one-row' });
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'faulty', { trigger: 'on-demand' });
    const where = `s3://${bucket}/fault/a.csv`;
    expect(report.status).toBe('error');
    expect(report.objects[0]!.error?.code).toBe('ROWS_UNACCOUNTED');
    const figures = `${where}: the rows do not add up: 1 rows imported, 1 quarantined, of 4 records read (1 a header line); 1 of them neither in the table nor in quarantine.`;
    expect(report.objects[0]!.error?.message).toContain(figures);
    // Undone: nothing of the object stays (on an old server the undo is a mutation that finishes later).
    const left = () => query<{ rows: number; quarantined: number }>(app, 'SELECT (SELECT count() FROM faulty) AS rows, (SELECT count() FROM faulty_quarantine) AS quarantined');
    expect(await until(left, (r) => r[0]!.rows === 0 && r[0]!.quarantined === 0)).toEqual([{ rows: 0, quarantined: 0 }]);
    expect(await query(app, "SELECT status, error FROM _bucketpipe_objects WHERE datasource = 'faulty'")).toEqual([{ status: 'failed', error: report.objects[0]!.error!.message }]);
    const failed = await query<{ message: string }>(app, "SELECT message FROM _bucketpipe_events WHERE datasource = 'faulty' AND event = 'object_failed'");
    expect(failed.map((e) => e.message)).toEqual([report.objects[0]!.error!.message]);

    // Without the fault the same object loads whole, and its figures add up.
    const clean = await openTestApp(project.dir);
    const again = await importHere(clean, 'faulty', { trigger: 'on-demand', retryFailed: true });
    expect(again.objects.map((o) => [o.status, o.records, o.headerLines, o.rows, o.quarantined])).toEqual([['imported', 4, 1, 2, 1]]);
    expect(await query(clean, 'SELECT n, amount FROM faulty ORDER BY n')).toEqual([{ n: 1, amount: 10 }, { n: 3, amount: 30 }]);
    expect(await query(clean, 'SELECT n FROM faulty_quarantine')).toEqual([{ n: '2' }]);
  });

  it('undoes a batch whose rows do not add up and loads its objects one by one, each checked on its own (the same fault)', async () => {
    // Three small objects of one layout: one statement loads them through the split, which the fault breaks.
    await putObjects(s3, bucket, {
      'faultb/1.csv': 'n,amount\n11,1\n12,2\n',
      'faultb/2.csv': 'n,amount\n21,1\n22,2\n',
      'faultb/3.csv': 'n,amount\n31,1\n32,two\n33,3\n',
    });
    project.writeDatasource('faulty_batch', importDatasource(`s3://${bucket}/faultb/*.csv`, { schema: '    `n` Int32,\n    `amount` Int64' }));
    const app = await openTestApp(project.dir, { BUCKETPIPE_TEST_FAULT: 'drop-one-row' });
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'faulty_batch', { trigger: 'on-demand' });
    // Alone, a clean object is read straight into the store's table (no split, no fault), on a server
    // too, whose worker engine streams its rows there. In front of several shards every object goes
    // through the split, and each fails on its own.
    const target = (await app.importContext('faulty_batch')).target;
    const direct = !(target.kind === 'staged' && target.overShards);
    expect(report.objects.map((o) => [o.uri.split('/').pop(), o.status, o.error?.code])).toEqual([
      ['1.csv', ...(direct ? ['imported', undefined] : ['failed', 'ROWS_UNACCOUNTED'])],
      ['2.csv', ...(direct ? ['imported', undefined] : ['failed', 'ROWS_UNACCOUNTED'])],
      ['3.csv', 'failed', 'ROWS_UNACCOUNTED'],
    ]);
    expect(report.objects[2]!.error?.message).toContain('faultb/3.csv: the rows do not add up: 1 rows imported, 1 quarantined, of 4 records read (1 a header line)');
    if (!direct) expect(report.objects[0]!.error?.message).toContain('faultb/1.csv: the rows do not add up: 1 rows imported, 0 quarantined, of 3 records read (1 a header line)');
    // Each object's rows once or not at all (on an old server the undo is a mutation that finishes later).
    const kept = direct ? [{ n: 11 }, { n: 12 }, { n: 21 }, { n: 22 }] : [];
    const rows = () => query<{ n: number }>(app, 'SELECT n FROM faulty_batch ORDER BY n');
    expect(await until(rows, (r) => r.length <= kept.length)).toEqual(kept);
    expect(await until(() => query<{ n: number }>(app, 'SELECT count() AS n FROM faulty_batch_quarantine'), (r) => r[0]!.n === 0)).toEqual([{ n: 0 }]);
  });
});
}
