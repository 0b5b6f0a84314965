import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { importRecording, type StageRecord } from '../helpers/import-recording.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

// Every type the typed read takes, plain and wrapped.
const TYPED_SCHEMA = [
  '`id` UInt64', '`small` UInt8', '`neg` Int16', '`f` Float64', '`ts` DateTime64(3)', '`t` DateTime', '`d` Date',
  '`s` String', '`ns` Nullable(String)', '`ni` Nullable(Int32)', '`lc` LowCardinality(String)',
].map((c) => `    ${c}`).join(',\n');
// The same, plus a column the typed read does not take (absent from the files): these load through the split.
const SPLIT_SCHEMA = `${TYPED_SCHEMA},\n    \`dec\` Decimal(10, 2)`;
const COLUMNS = ['id', 'small', 'neg', 'f', 'ts', 't', 'd', 's', 'ns', 'ni', 'lc'];

// Values that fit, in the many spellings real files use.
const FITTING_CSV = [
  'id,small,neg,f,ts,t,d,s,ns,ni,lc',
  '1,0,-32768,inf,2026-01-01T10:00:00Z,2026-01-01 00:00:00,2026-01-31,"a, ""quoted"" value",,,x',
  '"2",255,32767,.5,2026-01-01 10:00:00.123+02:00,1767225600,2026-02-28,ü ñ 日本,"",7,y',
  '007,5,-0,1e5,2026-03-01 00:00:00.5,2106-02-07 06:28:15,1970-01-01,,\\N,-1,',
  '18446744073709551615, 9 ,12,-1.25,2026-01-01,2026-01-01T00:00:00,2149-06-06,plain,text,,z',
  '',
].join('\n');

const directOutcomes = (records: StageRecord[]) => records.filter((r) => r.stage === 'direct_read').map((r) => [r.object?.replace(/^s3:\/\/[^/]+\//, ''), r.via, r.outcome]);

/** Every stored value as text, row by row, in id order. */
async function storedText(app: App, table: string): Promise<string[]> {
  const rows = await query<{ line: string }>(app, `SELECT arrayStringConcat([${COLUMNS.map((c) => `ifNull(toString(\`${c}\`), 'NULL')`).join(', ')}], '|') AS line FROM \`${table}\` ORDER BY id`);
  return rows.map((r) => r.line);
}

describe('typed read of CSV objects', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('stores exactly what the split stores, for values in every spelling that fits', async () => {
    await putObjects(s3, bucket, { 'fit/values.csv': FITTING_CSV, 'fit/zz-more.csv': `${FITTING_CSV.split('\n')[0]}\n1000,1,1,1,2026-01-01,2026-01-01,2026-01-01,x,,,x\n` });
    project.writeDatasource('typed', importDatasource(`s3://${bucket}/fit/values.*`, { schema: TYPED_SCHEMA }));
    // A Decimal column keeps the typed reader out: the split's own casts, without its views.
    project.writeDatasource('checked', importDatasource(`s3://${bucket}/fit/values.*`, { schema: SPLIT_SCHEMA }));
    // Two small objects load together, through the split itself.
    project.writeDatasource('split', importDatasource(`s3://${bucket}/fit/*.csv`, { schema: SPLIT_SCHEMA }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const outcomes: Record<string, unknown[]> = {};
    for (const name of ['typed', 'checked', 'split']) {
      const { report, records } = await importRecording(app, name);
      expect(report.objects.map((o) => [o.status, o.rows, o.quarantined])[0]).toEqual(['imported', 4, 0]);
      outcomes[name] = directOutcomes(records);
    }
    expect(outcomes).toEqual({
      typed: [['fit/values.csv', 'typed', 'loaded']],
      checked: [['fit/values.csv', 'checked', 'loaded']],
      split: [],
    });

    const stored = await storedText(app, 'typed');
    expect(stored).toEqual(await storedText(app, 'checked'));
    expect(stored).toEqual((await storedText(app, 'split')).filter((line) => !line.startsWith('1000|')));
    // A few values checked outright, so that the paths agreeing on a wrong value would show.
    expect(stored[0]).toBe('1|0|-32768|inf|2026-01-01 10:00:00.000|2026-01-01 00:00:00|2026-01-31|a, "quoted" value|NULL|NULL|x');
    expect(stored[3]).toBe('18446744073709551615|9|12|-1.25|2026-01-01 00:00:00.000|2026-01-01 00:00:00|2149-06-06|plain|text|NULL|z');
  });

  it('hands an object to the split when a value needs it, removing what the typed read had written', async () => {
    // Past the first written block (131,072 rows), so the typed read has stored rows when it stops.
    const big = ['id,small,neg,f,ts,t,d,s,ns,ni,lc'];
    for (let i = 1; i <= 300_000; i++) big.push(`${i},1,2,3.5,2026-01-01 00:00:00,2026-01-01 00:00:00,2026-01-01,row ${i},,,x`);
    big[290_000] = '290000,300,2,3.5,2026-01-01 00:00:00,2026-01-01 00:00:00,2026-01-01,too big,,,x';
    await putObjects(s3, bucket, {
      'mixed/a-late-misfit.csv': big.join('\n') + '\n',
      // `null` as text is an absent value to the split; the typed reader cannot parse it.
      'mixed/b-null-text.csv': 'id,small,neg,f,ts,t,d,s,ns,ni,lc\n300001,null,NULL,null,null,,,x,y,null,z\n',
      // A quoted value over two lines: the typed read leaves line breaks to the split.
      'mixed/c-multiline.csv': 'id,small,neg,f,ts,t,d,s,ns,ni,lc\n300002,1,1,1,2026-01-01,2026-01-01,2026-01-01,"two\nlines",,,z\n',
      // Out of its type's range: parsed at its own width, the reader would store a wrapped or clamped value.
      'mixed/d-ranges.csv': 'id,small,neg,f,ts,t,d,s,ns,ni,lc\n300003,256,40000,1,2026-01-01,1850-01-01 00:00:00,2200-01-01,x,,,z\n300004,1,1,1,2026-01-01,2026-01-01,2026-01-01,ok,,,z\n',
    });
    project.writeDatasource('mixed', importDatasource(`s3://${bucket}/mixed/*.csv`, { schema: TYPED_SCHEMA }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    // One object per load: small objects loaded together always go through the split.
    const { report, records } = await importRecording(app, 'mixed', 1);
    expect(report.status, report.error?.message).toBe('ok');
    expect(report.objects.map((o) => [o.uri.replace(/^s3:\/\/[^/]+\//, ''), o.rows, o.quarantined])).toEqual([
      ['mixed/a-late-misfit.csv', 299_999, 1],
      ['mixed/b-null-text.csv', 1, 0],
      ['mixed/c-multiline.csv', 1, 0],
      ['mixed/d-ranges.csv', 1, 1],
    ]);
    expect(directOutcomes(records)).toEqual([
      ['mixed/a-late-misfit.csv', 'typed', 'stopped'],
      ['mixed/b-null-text.csv', 'typed', 'stopped'],
      ['mixed/c-multiline.csv', 'typed', 'stopped'],
      ['mixed/d-ranges.csv', 'typed', 'stopped'],
    ]);

    // Each row once: nothing the typed read wrote before it stopped is left beside the split's rows.
    const [counts] = await query<{ n: number; ids: number }>(app, 'SELECT count() AS n, uniqExact(id) AS ids FROM mixed');
    expect([Number(counts!.n), Number(counts!.ids)]).toEqual([300_002, 300_002]);
    const odd = await query<{ id: number; small: number; neg: number; f: number; ts: string; ni: number | null; s: string }>(
      app,
      'SELECT id, small, neg, f, toString(ts) AS ts, ni, s FROM mixed WHERE id > 300000 ORDER BY id',
    );
    expect(odd.map((r) => [Number(r.id), r.small, r.neg, r.f, r.ts, r.ni, r.s])).toEqual([
      [300001, 0, 0, 0, '1970-01-01 00:00:00.000', null, 'x'],
      [300002, 1, 1, 1, '2026-01-01 00:00:00.000', null, 'two\nlines'],
      [300004, 1, 1, 1, '2026-01-01 00:00:00.000', null, 'ok'],
    ]);
    const quarantined = await query<{ source: string; row: number; columns: string[] }>(
      app,
      'SELECT c__source AS source, c__row AS row, c__error_column AS columns FROM mixed_quarantine ORDER BY source',
    );
    expect(quarantined.map((q) => [q.source.replace(/^s3:\/\/[^/]+\//, ''), Number(q.row), q.columns])).toEqual([
      ['mixed/a-late-misfit.csv', 290_000, ['small']],
      ['mixed/d-ranges.csv', 1, ['small', 'neg', 't', 'd']],
    ]);
  });
  it('reads Parquet times into coarser time columns by a plain cast, storing what the split stores, and stops at a time out of range', async () => {
    const schema = "    `id` UInt64,\n    `at` DateTime('UTC'),\n    `at0` DateTime64(0, 'Asia/Tokyo'),\n    `atn` Nullable(DateTime)";
    project.writeDatasource('pq_direct', importDatasource(`s3://${bucket}/pqt/fit.parquet`, { schema }));
    project.writeDatasource('pq_split', importDatasource(`s3://${bucket}/pqt/early.parquet`, { schema }));
    const app = await openTestApp(project.dir);
    const engine = (await app.importContext('pq_direct')).engine;
    const putParquet = (key: string, times: string) =>
      engine.command({
        query:
          `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'Parquet') ` +
          `SELECT toUInt64(number + 1) AS id, CAST([${times}][number + 1], 'Nullable(DateTime64(3, \\'UTC\\'))') AS at, at AS at0, at AS atn ` +
          `FROM numbers(length([${times}])) SETTINGS s3_truncate_on_insert = 1`,
        query_params: { url: `${s3Endpoint()}/${bucket}/${key}`, k: S3_KEY, s: S3_SECRET },
      });
    const fitting = "'2024-01-01 10:00:00.999', NULL, '1970-01-01 00:00:00', '2106-02-07 06:28:15.999', '2000-02-29 12:34:56.5', '2024-06-30 23:59:59.001'";
    await putParquet('pqt/fit.parquet', fitting);
    // The same rows and one before 1970, which no DateTime holds: the read stops and the split loads the object.
    await putParquet('pqt/early.parquet', `${fitting}, '1969-12-31 23:59:59.5'`);
    await pushProject(app, { dryRun: false });

    const direct = await importRecording(app, 'pq_direct');
    expect(directOutcomes(direct.records)).toEqual([['pqt/fit.parquet', 'typed', 'loaded']]);
    const split = await importRecording(app, 'pq_split');
    expect(directOutcomes(split.records)).toEqual([['pqt/early.parquet', 'typed', 'stopped']]);
    expect(split.report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 6, 1]]);
    const values = (table: string) => query(app, `SELECT id, toString(at) AS at, toString(at0) AS at0, toString(atn) AS atn FROM ${table} ORDER BY id`);
    const stored = await values('pq_direct');
    expect(stored).toHaveLength(6);
    expect(stored).toEqual(await values('pq_split'));
  });
});
