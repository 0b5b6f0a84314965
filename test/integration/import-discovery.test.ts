import { importHere } from '../../src/worker/run-here.js';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import { discoverObjects, discoveryCounts } from '../../src/importer/discover/discover.js';
import { readLedger } from '../../src/importer/discover/read-ledger.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

/** Every object names itself in its `src` column, so rows tell which objects were imported. */
const SCHEMA = '    `src` String,\n    `n` Int32';
const csvOf = (key: string, rows = 1) => 'src,n\n' + Array.from({ length: rows }, (_, i) => `${key},${i + 1}\n`).join('');

async function srcCounts(app: App, table: string): Promise<Record<string, number>> {
  const rows = await query<{ src: string; n: number }>(app, `SELECT src, count() AS n FROM ${table} GROUP BY src ORDER BY src`);
  return Object.fromEntries(rows.map((r) => [r.src, Number(r.n)]));
}

async function ledger(app: App, datasource: string): Promise<Array<{ key: string; status: string }>> {
  return query(
    app,
    `SELECT key, argMax(status, version) AS status FROM _bucketpipe_objects WHERE datasource = {ds:String} GROUP BY key, etag ORDER BY key, status`,
    { ds: datasource },
  );
}

describe('object discovery', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('imports exactly the keys each glob matches', async () => {
    const keys = ['g/a.csv', 'g/b.csv', 'g/ab.csv', 'g/x1.csv', 'g/x22.csv', 'g/c.txt', 'g/sub/a.csv', 'g/sub/deep/b.csv', 'other/a.csv', 'g.csv'];
    await putObjects(s3, bucket, Object.fromEntries(keys.map((k) => [k, csvOf(k)])));
    const globs: Record<string, { pattern: string; expected: string[] }> = {
      glob_star: { pattern: 'g/*.csv', expected: ['g/a.csv', 'g/ab.csv', 'g/b.csv', 'g/x1.csv', 'g/x22.csv'] },
      glob_globstar: { pattern: 'g/**/*.csv', expected: ['g/a.csv', 'g/ab.csv', 'g/b.csv', 'g/sub/a.csv', 'g/sub/deep/b.csv', 'g/x1.csv', 'g/x22.csv'] },
      glob_question: { pattern: 'g/x?.csv', expected: ['g/x1.csv'] },
      glob_braces: { pattern: 'g/{a,b}.csv', expected: ['g/a.csv', 'g/b.csv'] },
      glob_folder_braces: { pattern: 'g/**/{a,c}.*', expected: ['g/a.csv', 'g/c.txt', 'g/sub/a.csv'] },
    };
    for (const [name, { pattern }] of Object.entries(globs)) {
      project.writeDatasource(name, importDatasource(`s3://${bucket}/${pattern}`, { schema: SCHEMA }));
    }
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    for (const [name, { pattern, expected }] of Object.entries(globs)) {
      const report = await importHere(app, name, { trigger: 'on-demand' });
      expect(report.status, `${pattern}: ${report.error?.message}`).toBe('ok');
      expect(report.objects.map((o) => o.uri).sort(), pattern).toEqual(expected.map((k) => `s3://${bucket}/${k}`));
      expect(await srcCounts(app, name), pattern).toEqual(Object.fromEntries(expected.map((k) => [k, 1])));
      expect(await ledger(app, name), pattern).toEqual(expected.map((key) => ({ key, status: 'done' })));
    }
  });

  it('takes at most IMPORT_MAX_FILES_PER_RUN oldest objects per auto run, all the rest on demand, and nothing twice', async () => {
    // Upload order (LastModified) differs from key order.
    const order = ['q/e.csv', 'q/c.csv', 'q/a.csv', 'q/d.csv', 'q/b.csv'];
    await putObjects(s3, bucket, Object.fromEntries(order.map((k) => [k, csvOf(k, 2)])), { spaced: true });
    project.writeDatasource(
      'limited',
      importDatasource(`s3://${bucket}/q/*.csv`, { schema: SCHEMA, schedule: '@auto', more: 'IMPORT_MAX_FILES_PER_RUN 2' }),
    );
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const uris = (keys: string[]) => keys.map((k) => `s3://${bucket}/${k}`);

    const first = await importHere(app, 'limited', { trigger: 'auto' });
    expect(first.objects.map((o) => o.uri)).toEqual(uris(['q/e.csv', 'q/c.csv']));
    expect(first.deferred).toBe(3);
    expect(await srcCounts(app, 'limited')).toEqual({ 'q/c.csv': 2, 'q/e.csv': 2 });

    const second = await importHere(app, 'limited', { trigger: 'auto' });
    expect(second.objects.map((o) => o.uri)).toEqual(uris(['q/a.csv', 'q/d.csv']));
    expect(second.deferred).toBe(1);

    await putObjects(s3, bucket, { 'q/f.csv': csvOf('q/f.csv', 2), 'q/g.csv': csvOf('q/g.csv', 2) }, { spaced: true });
    const onDemand = await importHere(app, 'limited', { trigger: 'on-demand' });
    expect(onDemand.objects.map((o) => o.uri)).toEqual(uris(['q/b.csv', 'q/f.csv', 'q/g.csv']));
    expect(onDemand.deferred).toBe(0);

    const expected = { 'q/a.csv': 2, 'q/b.csv': 2, 'q/c.csv': 2, 'q/d.csv': 2, 'q/e.csv': 2, 'q/f.csv': 2, 'q/g.csv': 2 };
    expect(await srcCounts(app, 'limited')).toEqual(expected);

    for (const trigger of ['auto', 'on-demand'] as const) {
      const idle = await importHere(app, 'limited', { trigger });
      expect(idle).toMatchObject({ status: 'ok', objects: [], rows: 0, deferred: 0, changed: [], skippedFailed: 0 });
    }
    expect(await srcCounts(app, 'limited')).toEqual(expected);
  });

  it('reports an imported key that changed once, in the ops log too, and does not import it again', async () => {
    await putObjects(s3, bucket, { 'ch/one.csv': csvOf('ch/one.csv', 3), 'ch/two.csv': csvOf('ch/two.csv', 1) });
    project.writeDatasource('changing', importDatasource(`s3://${bucket}/ch/*.csv`, { schema: SCHEMA }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const first = await importHere(app, 'changing', { trigger: 'on-demand' });
    expect(first.rows).toBe(4);

    await putObjects(s3, bucket, { 'ch/one.csv': 'src,n\nch/one.csv (v2),100\nch/one.csv (v2),200\n' });
    const second = await importHere(app, 'changing', { trigger: 'on-demand' });
    expect(second.changed).toEqual([`s3://${bucket}/ch/one.csv`]);
    expect(second.objects).toEqual([]);
    expect(second.rows).toBe(0);
    const third = await importHere(app, 'changing', { trigger: 'on-demand' });
    expect(third.changed).toEqual([]);
    expect(third.objects).toEqual([]);

    expect(await srcCounts(app, 'changing')).toEqual({ 'ch/one.csv': 3, 'ch/two.csv': 1 });
    const events = await query<{ object: string; level: string; job_id: string }>(
      app,
      `SELECT object, level, job_id FROM _bucketpipe_events WHERE datasource = 'changing' AND event = 'etag_changed'`,
    );
    expect(events).toEqual([{ object: `s3://${bucket}/ch/one.csv`, level: 'warn', job_id: second.jobId }]);

    // What preview counts: the changed object stays counted once its change was reported.
    const ctx = await app.importContext('changing');
    const discovery = await discoverObjects(ctx.access, parseBucketUri(ctx.datasource.import.bucketUri), await readLedger(ctx.store.client, 'changing'));
    expect(discoveryCounts(discovery)).toEqual({ matched: 2, new: 0, imported: 1, changed: 1, failed: 0 });
  });

  for (const [label, key, body] of [
    ['an empty object', 'e1/empty.csv', ''],
    ['a header-only CSV', 'e2/header.csv', 'src,n\n'],
  ] as const) {
    it(`imports ${label} as 0 rows, status ok`, async () => {
      const prefix = key.split('/')[0]!;
      const name = `empty_${prefix}`;
      await putObjects(s3, bucket, { [key]: body, [`${prefix}/rows.csv`]: csvOf(`${prefix}/rows.csv`, 2) });
      project.writeDatasource(name, importDatasource(`s3://${bucket}/${prefix}/*.csv`, { schema: SCHEMA }));
      const app = await openTestApp(project.dir);
      await pushProject(app, { dryRun: false });
      const report = await importHere(app, name, { trigger: 'on-demand' });
      const byKey = Object.fromEntries(report.objects.map((o) => [o.uri.replace(`s3://${bucket}/`, ''), o]));
      expect.soft(byKey[key]?.error?.message).toBeUndefined();
      expect(report.status).toBe('ok');
      expect(Object.fromEntries(Object.entries(byKey).map(([k, o]) => [k, [o.status, o.rows, o.quarantined]]))).toEqual({
        [key]: ['imported', 0, 0],
        [`${prefix}/rows.csv`]: ['imported', 2, 0],
      });
      expect(await srcCounts(app, name)).toEqual({ [`${prefix}/rows.csv`]: 2 });
      expect(await query(app, `SELECT count() AS n FROM ${name}_quarantine`)).toEqual([{ n: 0 }]);
      expect(await ledger(app, name)).toEqual([
        { key, status: 'done' },
        { key: `${prefix}/rows.csv`, status: 'done' },
      ].sort((a, b) => (a.key < b.key ? -1 : 1)));
    });
  }

  it('fails a truncated .csv.gz without leaving rows, skips it next time and retries it when asked', async () => {
    const lines = ['src,n'];
    for (let i = 0; i < 300_000; i++) lines.push(`t/big.csv.gz,${(i * 7919) % 1_000_003}`);
    const whole = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    await putObjects(s3, bucket, {
      't/big.csv.gz': whole.subarray(0, Math.floor(whole.length * 0.7)),
      't/good.csv': csvOf('t/good.csv', 2),
    });
    project.writeDatasource('truncated', importDatasource(`s3://${bucket}/t/*`, { schema: SCHEMA }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const big = `s3://${bucket}/t/big.csv.gz`;

    // Watch the stages, to be sure the failure came in the middle of the load (not at the probe).
    const stages: Array<{ stage: string; object: string }> = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void stages.push(JSON.parse(line)) });
    const first = await importHere(app, 'truncated', { trigger: 'on-demand' }, { adjust: (ctx) => ({ ...ctx, log }) });
    // The direct read stops at the broken gzip, and the split meets it again and fails the object.
    expect(stages.filter((s) => s.object === big).map((s) => s.stage)).toEqual(['claimed', 'loading', 'direct_read', 'failed']);
    const byUri = new Map(first.objects.map((o) => [o.uri, o]));
    expect(byUri.get(big)?.status).toBe('failed');
    expect(byUri.get(big)?.error?.message).toContain(big);
    expect(byUri.get(`s3://${bucket}/t/good.csv`)).toMatchObject({ status: 'imported', rows: 2 });
    expect(first.status).toBe('partial');
    const nothingOfBig = async () => {
      expect(await srcCounts(app, 'truncated')).toEqual({ 't/good.csv': 2 });
      expect(await query(app, `SELECT count() AS n FROM truncated_quarantine WHERE c__source = {big:String}`, { big })).toEqual([{ n: 0 }]);
    };
    await nothingOfBig();
    expect(await ledger(app, 'truncated')).toEqual([
      { key: 't/big.csv.gz', status: 'failed' },
      { key: 't/good.csv', status: 'done' },
    ]);

    const next = await importHere(app, 'truncated', { trigger: 'on-demand' });
    expect(next.objects).toEqual([]);
    expect(next.skippedFailed).toBe(1);
    await nothingOfBig();

    const retried = await importHere(app, 'truncated', { trigger: 'on-demand', retryFailed: true });
    expect(retried.objects.map((o) => [o.uri, o.status])).toEqual([[big, 'failed']]);
    expect(retried.skippedFailed).toBe(0);
    await nothingOfBig();
    const attempts = await query<{ n: number }>(
      app,
      `SELECT count() AS n FROM _bucketpipe_events WHERE datasource = 'truncated' AND event = 'object_failed' AND object = {big:String}`,
      { big },
    );
    expect(attempts).toEqual([{ n: 2 }]);
  });
});
