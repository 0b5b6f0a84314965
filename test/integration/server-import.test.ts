import { importHere, exportHere } from '../../src/worker/run-here.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { selectRows } from '../../src/store/queries.js';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';
import { freshServerDatabase } from '../helpers/embedded.js';

/** Imports into a real ClickHouse 18.16 server: this process's engine reads, splits and streams the rows. */
describe('import into a ClickHouse server', () => {
  const s3 = s3Client(inject('s3Endpoint'));
  let bucket: string;
  let project: TestProjectDir;
  let dataDir: string;
  let app: App;
  const suffix = Date.now().toString(36);

  beforeAll(async () => {
    bucket = await createBucket(s3);
    project = createProjectDir(inject('s3Endpoint'));
    dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-server-import-'));
    app = await openApp({
      projectDir: project.dir,
      env: { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir, BUCKETPIPE_CLICKHOUSE_URL: await freshServerDatabase() },
    });
  });
  afterAll(async () => {
    await app?.close();
    project.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const rows = async <T>(sql: string) => selectRows<T>((await app.store()).client, sql);

  it('loads CSV and gzip NDJSON rows, quarantines what does not fit with its reasons, and never loads an object twice', async () => {
    const csvName = `srv_csv_${suffix}`;
    const jsonName = `srv_json_${suffix}`;
    await putObjects(s3, bucket, {
      'srv/a.csv': 'id,name,amount,day\n1,ann,1.5,2024-01-01\n2,"b, ""quoted""",oops,2024-01-02\n3,cy\n4,dee,4,2024-01-04\n',
      'srvj/a.ndjson.gz': gzipSync('{"id":1,"who":{"name":"x"},"tags":["a","b"]}\nnot json\n{"id":"two","who":{}}\n'),
    });
    project.writeDatasource(csvName, importDatasource(`s3://${bucket}/srv/*.csv`, { schema: "    `id` UInt32,\n    `name` String,\n    `amount` Nullable(Decimal(10, 2)),\n    `day` Date" }));
    project.writeDatasource(jsonName, importDatasource(`s3://${bucket}/srvj/*.ndjson.gz`, { schema: '    `id` UInt64 `json:$.id`,\n    `who` Nullable(String) `json:$.who.name`,\n    `tags` Array(String) `json:$.tags`' }));
    await app.reload();
    await pushProject(app, { dryRun: false });

    const csv = await importHere(app, csvName, { trigger: 'on-demand' });
    expect(csv.objects.map((o) => o.error?.message)).toEqual([undefined]);
    expect([csv.rows, csv.quarantined]).toEqual([2, 2]);
    expect(await rows(`SELECT id, name, toString(amount) AS amount, toString(day) AS day FROM ${csvName} ORDER BY id`)).toEqual([
      { id: 1, name: 'ann', amount: '1.50', day: '2024-01-01' },
      { id: 4, name: 'dee', amount: '4.00', day: '2024-01-04' },
    ]);
    const rejected = await rows<{ c__row: number | string; c__error_column: string[]; c__raw: string | null }>(`SELECT c__row, c__error_column, c__raw FROM ${csvName}_quarantine ORDER BY c__row`);
    expect(rejected.map((r) => [Number(r.c__row), r.c__error_column, r.c__raw])).toEqual([
      [2, ['amount'], null],
      [3, [], '3,cy'],
    ]);

    const json = await importHere(app, jsonName, { trigger: 'on-demand' });
    expect([json.rows, json.quarantined]).toEqual([1, 2]);
    expect(await rows(`SELECT toString(id) AS id, who, tags FROM ${jsonName}`)).toEqual([{ id: '1', who: 'x', tags: ['a', 'b'] }]);

    const again = await importHere(app, csvName, { trigger: 'on-demand' });
    expect(again.objects).toEqual([]);
    expect(await rows(`SELECT count() AS n FROM ${csvName}`)).toEqual([{ n: '2' }]);
    const tagged = await rows<{ tag: string; n: string }>(`SELECT _bp_import_id AS tag, count() AS n FROM ${csvName} GROUP BY tag`);
    // The rows carry the tag of the ledger's one committed import of the table.
    const committed = await rows<{ id: string }>(`SELECT DISTINCT import_id AS id FROM _bucketpipe_ledger WHERE datasource = '${csvName}' AND status = 'done'`);
    expect(tagged.map((t) => t.tag)).toEqual(committed.map((c) => c.id));
    expect(tagged[0]!.tag).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('undoes an interrupted import on the server before loading its object again', async () => {
    const name = `srv_undo_${suffix}`;
    await putObjects(s3, bucket, { 'undo/a.csv': 'id\n1\n2\n3\n' });
    project.writeDatasource(name, importDatasource(`s3://${bucket}/undo/*.csv`, { schema: '    `id` UInt32' }));
    await app.reload();
    await pushProject(app, { dryRun: false });
    const first = await importHere(app, name, { trigger: 'on-demand' });
    expect(first.rows).toBe(3);
    // As a crash would leave it: the object claimed (`loading`) with its rows already in.
    const client = (await app.store()).client;
    await client.command({
      query: `INSERT INTO _bucketpipe_ledger SELECT datasource, key, etag, bucket, size, last_modified, import_id, job_id, 'loading', rows, quarantined, error, updated_at, version + 1 FROM _bucketpipe_ledger WHERE datasource = '${name}'`,
    });
    const again = await importHere(app, name, { trigger: 'on-demand' });
    expect(again.recovered).toBe(1);
    expect(again.rows).toBe(3);
    // The undo is an asynchronous mutation on this server version; wait for it.
    for (let i = 0; i < 50 && Number((await rows<{ n: string }>(`SELECT count() AS n FROM ${name}`))[0]!.n) !== 3; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await rows(`SELECT id FROM ${name} ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('infers schemas the server can hold, adds the columns later objects bring, and reads Parquet with the worker engine', async () => {
    const name = `srv_inferred_${suffix}`;
    await putObjects(s3, bucket, { 'inf/1.csv': 'zip,at,flag,score\n00501,2024-01-01 10:00:00.250,true,1.5\n02134,2024-01-02 11:00:00,false,\n' }, { spaced: true });
    await putObjects(s3, bucket, { 'inf/2.csv': 'zip,at,flag,score,extra\n10001,2024-01-03 12:00:00,true,3,x\n' });
    project.writeDatasource(name, importDatasource(`s3://${bucket}/inf/*.csv`));
    await app.reload();
    const pushed = await pushProject(app, { dryRun: false });
    const step = pushed.steps.find((st) => st.datasource === name)!;
    // `at` holds a fraction of a second, which DateTime (whole seconds, the most 18.16 has) would cut: text keeps it.
    expect(step.columns?.map((c) => `${c.name} ${c.type}`)).toEqual(['zip String', 'at String', 'flag UInt8', 'score Nullable(Float64)']);
    const report = await importHere(app, name, { trigger: 'on-demand' });
    expect(report.objects.map((o) => o.error?.message)).toEqual([undefined, undefined]);
    expect(report.objects[1]!.addedColumns).toEqual(['extra']);
    expect(await rows(`SELECT zip, toString(at) AS at, flag, score, extra FROM ${name} ORDER BY zip`)).toEqual([
      { zip: '00501', at: '2024-01-01 10:00:00.250', flag: 1, score: 1.5, extra: null },
      { zip: '02134', at: '2024-01-02 11:00:00', flag: 0, score: null, extra: null },
      { zip: '10001', at: '2024-01-03 12:00:00', flag: 1, score: 3, extra: 'x' },
    ]);

    const pq = `srv_parquet_${suffix}`;
    const engine = (await app.importContext(name)).engine;
    await engine.command({
      query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'Parquet') SELECT number AS id, toString(number) AS label, [number, number * 2] AS pair FROM numbers(1000)`,
      query_params: { url: `${inject('s3Endpoint')}/${bucket}/pq/a.parquet`, k: S3_KEY, s: S3_SECRET },
    });
    project.writeDatasource(pq, importDatasource(`s3://${bucket}/pq/*.parquet`));
    await app.reload();
    await pushProject(app, { dryRun: false });
    const parquet = await importHere(app, pq, { trigger: 'on-demand' });
    expect(parquet.rows).toBe(1000);
    expect(await rows(`SELECT count() AS n, sum(id) AS s, sum(arraySum(pair)) AS p FROM ${pq}`)).toEqual([{ n: '1000', s: '499500', p: '1498500' }]);
  });

  it('exports a server table as Parquet through the worker engine, in parts, new rows once', async () => {
    const name = `srv_export_${suffix}`;
    await putObjects(s3, bucket, { 'exp/1.csv': 'id,label\n1,one\n2,two\n3,three\n' });
    project.writeDatasource(
      name,
      importDatasource(`s3://${bucket}/exp/*.csv`, { schema: '    `id` UInt32,\n    `label` String' }) +
        `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${bucket}/exp-out/\nEXPORT_FORMAT parquet\nEXPORT_MAX_ROWS_PER_FILE 2\n`,
    );
    await app.reload();
    await pushProject(app, { dryRun: false });
    await importHere(app, name, { trigger: 'on-demand' });
    const first = await exportHere(app, name, { trigger: 'on-demand' });
    expect(first.error?.message).toBeUndefined();
    expect(first.files.map((f) => f.rows)).toEqual([2, 1]);
    const engine = (await app.importContext(name)).engine;
    const back = await selectRows<{ id: number; label: string }>(
      engine,
      `SELECT id, label FROM s3({url:String}, {k:String}, {s:String}, 'Parquet') ORDER BY id`,
      { url: `${inject('s3Endpoint')}/${bucket}/exp-out/${name}/**.parquet`, k: S3_KEY, s: S3_SECRET },
    );
    expect(back).toEqual([{ id: 1, label: 'one' }, { id: 2, label: 'two' }, { id: 3, label: 'three' }]);
    await putObjects(s3, bucket, { 'exp/2.csv': 'id,label\n4,four\n' });
    await importHere(app, name, { trigger: 'on-demand' });
    const second = await exportHere(app, name, { trigger: 'on-demand' });
    expect(second.rows).toBe(1);
  });
});
