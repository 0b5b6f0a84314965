import { importHere } from '../../src/worker/run-here.js';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

const SCHEMA = '    `src` String,\n    `n` Int32';
const csvOf = (src: string, rows: number) => 'src,n\n' + Array.from({ length: rows }, (_, i) => `${src},${i + 1}\n`).join('');

describe('small objects loaded in batches', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('loads many small objects per statement with exact counts per object; a bad object sends its batch one by one', async () => {
    const objects: Record<string, string | Buffer> = {};
    for (let i = 0; i < 12; i++) objects[`b/p${String(i).padStart(2, '0')}.csv`] = csvOf(`p${i}`, i + 1);
    // A misfit value (quarantined, data row 2) and a malformed row (an extra field, data row 4) in one object.
    objects['b/p05.csv'] = 'src,n\np5,1\np5,oops\np5,3\np5,4,extra\np5,5\n';
    // Gzip objects have another layout: they form a batch of their own.
    objects['b/z1.csv.gz'] = gzipSync(csvOf('z1', 4));
    objects['b/z2.csv.gz'] = gzipSync(csvOf('z2', 5));
    await putObjects(s3, bucket, objects);
    project.writeDatasource('batched', importDatasource(`s3://${bucket}/b/*`, { schema: SCHEMA }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });

    const report = await importHere(app, 'batched', { trigger: 'on-demand' });
    expect(report.status, report.error?.message).toBe('ok');
    const byUri = new Map(report.objects.map((o) => [o.uri.slice(`s3://${bucket}/`.length), [o.status, o.rows, o.quarantined]]));
    const expected = new Map<string, unknown[]>();
    for (let i = 0; i < 12; i++) expected.set(`b/p${String(i).padStart(2, '0')}.csv`, ['imported', i + 1, 0]);
    expected.set('b/p05.csv', ['imported', 3, 2]);
    expected.set('b/z1.csv.gz', ['imported', 4, 0]);
    expected.set('b/z2.csv.gz', ['imported', 5, 0]);
    expect(Object.fromEntries(byUri)).toEqual(Object.fromEntries(expected));

    // The store agrees with the report, object by object.
    const stored = await query<{ src: string; n: number }>(app, 'SELECT src, count() AS n FROM batched GROUP BY src ORDER BY src');
    expect(Object.fromEntries(stored.map((r) => [r.src, Number(r.n)]))).toEqual({
      ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}`, i === 5 ? 3 : i + 1])),
      z1: 4,
      z2: 5,
    });
    const quarantined = await query<{ source: string; row: number; raw: string | null }>(
      app,
      'SELECT c__source AS source, c__row AS row, c__raw AS raw FROM batched_quarantine ORDER BY row',
    );
    expect(quarantined.map((q) => [q.source, Number(q.row), q.raw === null ? null : 'raw'])).toEqual([
      [`s3://${bucket}/b/p05.csv`, 2, null],
      [`s3://${bucket}/b/p05.csv`, 4, 'raw'],
    ]);

    // The ledger has every object done with its own counts; batched objects share an import id.
    const ledger = await query<{ key: string; status: string; rows: number; import_id: string }>(
      app,
      `SELECT key, argMax(status, version) AS status, argMax(rows, version) AS rows, argMax(import_id, version) AS import_id
       FROM _bucketpipe_objects WHERE datasource = 'batched' GROUP BY key ORDER BY key`,
    );
    expect(ledger.map((l) => [l.key, l.status, Number(l.rows)])).toEqual([...expected].map(([key, [, rows]]) => [key, 'done', rows]).sort());
    const ids = new Set(ledger.map((l) => l.import_id));
    // p05's batch fell back to one import per object; the gzip pair is one batch.
    expect(ids.size).toBeLessThan(ledger.length);
    expect(new Set(ledger.filter((l) => l.key.endsWith('.gz')).map((l) => l.import_id)).size).toBe(1);
    const events = await query<{ n: number }>(app, "SELECT count() AS n FROM _bucketpipe_events WHERE datasource = 'batched' AND event = 'object_imported'");
    expect(Number(events[0]!.n)).toBe(14);

    // Nothing is imported twice.
    const again = await importHere(app, 'batched', { trigger: 'on-demand' });
    expect(again.objects).toEqual([]);
    const [total] = await query<{ n: number }>(app, 'SELECT count() AS n FROM batched');
    expect(Number(total!.n)).toBe(1 + 2 + 3 + 4 + 5 + 3 + 7 + 8 + 9 + 10 + 11 + 12 + 4 + 5);
  });
});
