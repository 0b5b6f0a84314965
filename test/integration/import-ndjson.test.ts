import { importHere } from '../../src/worker/run-here.js';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

/** Writes an object through the engine itself, one line per element, compressed as asked (Node 20 has no zstd). */
async function putLinesWithEngine(app: App, bucket: string, key: string, lines: string[], compression: string): Promise<void> {
  const url = `${s3Endpoint()}/${bucket}/${key}`;
  await (await app.store()).client.command({
    query:
      `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'LineAsString', 'line String', {c:String}) ` +
      `SELECT arrayJoin({lines:Array(String)}) SETTINGS s3_truncate_on_insert = 1`,
    query_params: { url, k: S3_KEY, s: S3_SECRET, c: compression, lines },
  });
}

const json = (value: unknown) => JSON.stringify(value);

/** 2024-01-02T03:04:05Z */
const EPOCH = 1704164645;

describe('NDJSON import', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('reads declared json paths from plain, gzip, zstd and content-encoded objects and quarantines broken lines', async () => {
    const a = [
      /* 1 */ json({
        id: 1,
        user: { name: 'ann', address: { city: 'Oslo' } },
        tags: ['x', 'y'],
        'odd key': 'spaced',
        payload: { k: 1, arr: [1, 2], s: 'v' },
        ts: '2024-01-02T03:04:05Z',
        ts_epoch: EPOCH,
        maybe: 7,
        count: 3,
      }),
      /* 2 */ json({ id: 2, user: { name: 'bob' }, tags: [], payload: 'plain text', ts: '2024-01-02T05:04:05+02:00', ts_epoch: String(EPOCH), maybe: null }),
      /* 3 */ '',
      /* 4 */ 'not json',
      /* 5 */ '[1,2]',
      /* 6 */ json({ id: 'x1', user: { name: 'cat' }, ts: '2024-01-02T03:04:05Z' }),
      /* 7 */ '   ',
      /* 8 */ '{"a":',
      /* 9 */ json({ id: 3, user: { name: 'dan' }, ts: 'not a date' }),
      /* 10 */ json({ id: 4, user: { name: 'eve', address: { city: null } }, tags: ['only'], ts: EPOCH + 60, ts_epoch: EPOCH + 60, maybe: -5, count: -1 }),
    ].join('\n') + '\n';
    const b = [
      json({ id: 10, user: { name: 'gz' }, tags: ['g'], ts: '2024-01-02T03:04:05Z', ts_epoch: EPOCH, count: 1 }),
      '',
      json({ id: 11, user: { name: 'gz2' }, ts: '2024-01-02T03:04:05Z', ts_epoch: EPOCH }),
    ].join('\n') + '\n';
    const d = [
      json({ id: 30, user: { name: 'enc' }, ts: '2024-01-02T03:04:05Z', ts_epoch: EPOCH }),
      json({ id: 31, user: { name: 'enc2' }, ts: '2024-01-02T03:04:05Z', ts_epoch: EPOCH }),
    ].join('\n') + '\n';
    await putObjects(s3, bucket, { 'nd/a.ndjson': a, 'nd/b.ndjson.gz': gzipSync(Buffer.from(b)) });
    // A gzip object whose key does not say so, served with Content-Encoding: gzip.
    await putObjects(s3, bucket, { 'nd/d.ndjson': gzipSync(Buffer.from(d)) }, { contentEncoding: 'gzip' });

    project.writeDatasource(
      'nd_events',
      importDatasource(`s3://${bucket}/nd/*`, {
        schema: [
          '    `id` Int32 `json:$.id`,',
          '    `user_name` String `json:$.user.name`,',
          '    `user_city` Nullable(String) `json:$.user.address.city`,',
          '    `first_tag` String `json:$.tags[0]`,',
          "    `odd` Nullable(String) `json:$['odd key']`,",
          '    `payload` String `json:$.payload`,',
          '    `ts` DateTime `json:$.ts`,',
          '    `ts_epoch` DateTime `json:$.ts_epoch`,',
          '    `maybe` Nullable(Int64) `json:$.maybe`,',
          '    `count` Int32 `json:$.count`',
        ].join('\n'),
      }),
    );
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    await putLinesWithEngine(
      app,
      bucket,
      'nd/c.jsonl.zst',
      [json({ id: 20, user: { name: 'zst' }, ts: '2024-01-02T03:04:05Z', ts_epoch: EPOCH }), 'oops', json({ id: 21, user: { name: 'zst2' }, ts: EPOCH, ts_epoch: EPOCH })],
      'zstd',
    );

    const report = await importHere(app, 'nd_events', { trigger: 'on-demand' });
    const byKey = Object.fromEntries(report.objects.map((o) => [o.uri.slice(`s3://${bucket}/`.length), o]));
    expect(Object.fromEntries(Object.entries(byKey).map(([k, o]) => [k, o.error?.message ?? o.status]))).toEqual({
      'nd/a.ndjson': 'imported',
      'nd/b.ndjson.gz': 'imported',
      'nd/c.jsonl.zst': 'imported',
      'nd/d.ndjson': 'imported',
    });
    expect(Object.fromEntries(Object.entries(byKey).map(([k, o]) => [k, [o.rows, o.quarantined]]))).toEqual({
      'nd/a.ndjson': [3, 5],
      'nd/b.ndjson.gz': [2, 0],
      'nd/c.jsonl.zst': [2, 1],
      'nd/d.ndjson': [2, 0],
    });
    expect(report.status).toBe('ok');
    expect(report.rows).toBe(9);
    expect(report.quarantined).toBe(6);

    const rows = await query<Record<string, unknown>>(
      app,
      `SELECT id, user_name, user_city, first_tag, odd, payload, toUnixTimestamp(ts) AS ts, toUnixTimestamp(ts_epoch) AS ts_epoch, maybe, count
       FROM nd_events ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual([1, 2, 4, 10, 11, 20, 21, 30, 31]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    // Nested objects, an array index, a key with a space, an object kept as JSON text, both DateTime forms.
    expect({ ...byId.get(1), payload: undefined }).toEqual({
      id: 1,
      user_name: 'ann',
      user_city: 'Oslo',
      first_tag: 'x',
      odd: 'spaced',
      payload: undefined,
      ts: EPOCH,
      ts_epoch: EPOCH,
      maybe: 7,
      count: 3,
    });
    expect(JSON.parse(byId.get(1)!.payload as string)).toEqual({ k: 1, arr: [1, 2], s: 'v' });
    // Missing nested keys → NULL (Nullable) or '' (String); JSON null → NULL; missing Int32 → 0; offset and epoch string.
    expect(byId.get(2)).toEqual({
      id: 2,
      user_name: 'bob',
      user_city: null,
      first_tag: '',
      odd: null,
      payload: 'plain text',
      ts: EPOCH,
      ts_epoch: EPOCH,
      maybe: null,
      count: 0,
    });
    expect(byId.get(4)).toEqual({
      id: 4,
      user_name: 'eve',
      user_city: null,
      first_tag: 'only',
      odd: null,
      payload: '',
      ts: EPOCH + 60,
      ts_epoch: EPOCH + 60,
      maybe: -5,
      count: -1,
    });
    expect(byId.get(10)).toMatchObject({ user_name: 'gz', first_tag: 'g', ts: EPOCH, maybe: null, count: 1 });
    expect(byId.get(21)).toMatchObject({ user_name: 'zst2', ts: EPOCH, ts_epoch: EPOCH });
    expect(byId.get(31)).toMatchObject({ user_name: 'enc2', ts: EPOCH });

    const quarantined = await query<{ id: string | null; ts: string | null; c__error_column: string[]; c__error: string[]; c__row: number; c__raw: string | null; c__source: string }>(
      app,
      'SELECT id, ts, c__error_column, c__error, c__row, c__raw, c__source FROM nd_events_quarantine ORDER BY c__source, c__row',
    );
    expect(quarantined.map((q) => [q.c__source.slice(`s3://${bucket}/`.length), Number(q.c__row), q.c__raw])).toEqual([
      ['nd/a.ndjson', 4, 'not json'],
      ['nd/a.ndjson', 5, '[1,2]'],
      ['nd/a.ndjson', 6, null],
      ['nd/a.ndjson', 8, '{"a":'],
      ['nd/a.ndjson', 9, null],
      ['nd/c.jsonl.zst', 2, 'oops'],
    ]);
    for (const q of quarantined.filter((q) => q.c__raw !== null)) {
      expect(q.c__error_column).toEqual([]);
      expect(q.c__error).toHaveLength(1);
      expect(q.c__error[0]).toMatch(/JSON/);
    }
    const badId = quarantined.find((q) => Number(q.c__row) === 6)!;
    expect(badId).toMatchObject({ id: 'x1', c__error_column: ['id'] });
    expect(badId.c__error[0]).toContain('"x1" is not a valid Int32');
    const badTs = quarantined.find((q) => Number(q.c__row) === 9)!;
    expect(badTs).toMatchObject({ id: '3', ts: 'not a date', c__error_column: ['ts'] });
    expect(badTs.c__error[0]).toContain('"not a date" is not a valid DateTime');
  });

  it('infers the columns of a datasource without SCHEMA from its reference object, nested objects as String', async () => {
    await putObjects(
      s3,
      bucket,
      {
        'inferred/1.ndjson': [
          json({ id: 1, name: 'a', meta: { k: 1, deep: { x: [1, 2] } }, score: 1.5 }),
          json({ id: 2, name: 'b', meta: { k: 2 }, score: null }),
        ].join('\n') + '\n',
        'inferred/2.ndjson': json({ id: 3, name: 'c', meta: { other: 'z' }, score: 2.5 }) + '\n',
      },
      { spaced: true },
    );
    project.writeDatasource('nd_inferred', importDatasource(`s3://${bucket}/inferred/*.ndjson`));
    const app = await openTestApp(project.dir);
    const pushed = await pushProject(app, { dryRun: false });
    const step = pushed.steps.find((s) => s.datasource === 'nd_inferred');
    expect(step?.action).toBe('create_tables');
    expect(step?.reference?.key).toBe('inferred/1.ndjson');
    const columns = await query<{ name: string; type: string }>(
      app,
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'nd_inferred' AND NOT startsWith(name, '_bp_') ORDER BY position`,
    );
    expect(columns.map((c) => c.name)).toEqual(['id', 'name', 'meta', 'score']);
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types.id).toMatch(/^(Nullable\()?Int64\)?$/);
    expect(types.name).toMatch(/^(Nullable\()?String\)?$/);
    expect(types.meta).toMatch(/^(Nullable\()?String\)?$/);
    expect(types.score).toBe('Nullable(Float64)');

    const report = await importHere(app, 'nd_inferred', { trigger: 'on-demand' });
    expect(report.objects.map((o) => o.error?.message)).toEqual([undefined, undefined]);
    expect(report.rows).toBe(3);
    expect(report.quarantined).toBe(0);
    const rows = await query<{ id: number; name: string; meta: unknown; score: number | null }>(app, 'SELECT id, name, meta, score FROM nd_inferred ORDER BY id');
    // Each object's nested value, whole, as JSON text (objects of later files may have other keys).
    expect(rows.map((r) => ({ ...r, meta: typeof r.meta === 'string' ? JSON.parse(r.meta) : { notText: r.meta } }))).toEqual([
      { id: 1, name: 'a', meta: { k: 1, deep: { x: [1, 2] } }, score: 1.5 },
      { id: 2, name: 'b', meta: { k: 2 }, score: null },
      { id: 3, name: 'c', meta: { other: 'z' }, score: 2.5 },
    ]);
  });

  it('reads a JSON array of objects (pretty-printed too) and an NDJSON file that starts with a byte order mark', async () => {
    const array = JSON.stringify([{ id: 1, who: 'ann' }, { id: 2, who: 'bob' }, { id: 'x', who: 'bad id' }], null, 2);
    await putObjects(s3, bucket, {
      'arr/people.json': array,
      'arr/more.json': '\uFEFF{"id":4,"who":"dee"}\n{"id":5,"who":"eve"}\n',
      'arr/mixed.json': JSON.stringify([{ id: 9, who: 'zed' }, 7]),
    });
    project.writeDatasource('people', importDatasource(`s3://${bucket}/arr/*.json`, { schema: '    `id` UInt32 `json:$.id`,\n    `who` String `json:$.who`' }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'people', { trigger: 'on-demand' });
    const errors = Object.fromEntries(report.objects.map((o) => [o.uri.replace(/^.*\//, ''), o.error?.message]));
    expect(errors['people.json']).toBeUndefined();
    expect(errors['more.json']).toBeUndefined();
    // An array element that is not an object stops the engine's reader: the object fails, named, and nothing of it stays.
    expect(errors['mixed.json']).toMatch(/arr\/mixed\.json: the object cannot be read: .*row 2/);
    expect(await query(app, 'SELECT id, who FROM people ORDER BY id')).toEqual([
      { id: 1, who: 'ann' },
      { id: 2, who: 'bob' },
      { id: 4, who: 'dee' },
      { id: 5, who: 'eve' },
    ]);
    const rejected = await query<{ c__row: number; c__raw: string | null; c__error_column: string[] }>(app, 'SELECT c__row, c__raw, c__error_column FROM people_quarantine ORDER BY c__row');
    expect(rejected).toEqual([{ c__row: 3, c__raw: null, c__error_column: ['id'] }]);
  });
});
