import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ExportReport } from '../../src/exporter/export-datasource.js';
import { pushProject } from '../../src/push/push-project.js';
import { exportHere, importHere } from '../../src/worker/run-here.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { openTestApp, query, queryEngine, s3Endpoint, useServerStore, withBucketAndProject } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

useServerStore();

const SCHEMA = ['`id` Int64', '`name` String', '`score` Nullable(Decimal(10, 2))', '`at` DateTime(\'UTC\')', '`tags` Array(String)', '`maybe` Nullable(String)'].map((c) => `    ${c}`).join(',\n');
const STRUCTURE = "id Int64, name String, score Nullable(Decimal(10, 2)), at DateTime('UTC'), tags Array(String), maybe Nullable(String)";
const ROWS = [
  'id,name,score,at,tags,maybe',
  '1,plain,1.5,2024-01-01 10:00:00,"[""a"",""b""]",x',
  '2,"with, comma",,2024-01-02 00:00:00,[],',
  '3,"multi\nline",-3.25,2105-12-31 23:59:59,"[""""]",',
];

/** An export here whose stage records are kept, to see which way the rows went. */
async function exportRecording(app: App, name: string): Promise<{ report: ExportReport; via: unknown[] }> {
  const records: Array<{ stage?: string; via?: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as { stage?: string; via?: string });
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const report = await exportHere(app, name, { trigger: 'on-demand' }, { adjustExport: (ctx) => ({ ...ctx, log }) });
  expect(report.error?.message).toBeUndefined();
  return { report, via: records.filter((r) => r.stage === 'export_rows').map((r) => r.via) };
}

/**
 * With a server as the store, a run's rows stream from the server straight into the worker engine's
 * write of the file, counted as they pass; rows whose Native layout the count does not know take the
 * local table first.
 */
describe('export from a ClickHouse server, streamed', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('writes the file as the rows come, with every value and the count of what it holds', async () => {
    await putObjects(s3, bucket, { 'in/a.csv': `${ROWS.join('\n')}\n` });
    for (const [name, format] of [['to_csv', 'csv'], ['to_parquet', 'parquet']] as const) {
      project.writeDatasource(name, importDatasource(`s3://${bucket}/in/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/${name}/`, `EXPORT_FORMAT ${format}`, 'EXPORT_STRATEGY full', ''].join('\n'));
    }
    project.writeDatasource('as_tuple', importDatasource(`s3://${bucket}/in/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/as_tuple/`, 'EXPORT_FORMAT jsonl', 'EXPORT_STRATEGY full', 'EXPORT_QUERY SELECT id, tuple(id, name) AS pair FROM as_tuple', ''].join('\n'));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    for (const name of ['to_csv', 'to_parquet', 'as_tuple']) expect((await importHere(app, name, { trigger: 'on-demand' })).rows).toBe(3);

    for (const [name, format] of [['to_csv', 'CSVWithNames'], ['to_parquet', 'Parquet']] as const) {
      const { report, via } = await exportRecording(app, name);
      expect(via).toEqual(['streamed']);
      expect([report.rows, report.files.map((f) => f.rows)]).toEqual([3, [3]]);
      const url = `${s3Endpoint()}/${report.files[0]!.uri.slice('s3://'.length)}`;
      const back = await queryEngine(app, 'SELECT * FROM s3({url:String}, {k:String}, {s:String}, {f:String}, {st:String}) ORDER BY id', { url, k: S3_KEY, s: S3_SECRET, f: format, st: STRUCTURE });
      const stored = await query(app, `SELECT id, name, toString(score) AS score, toString(at) AS at, tags, maybe FROM ${name} ORDER BY id`);
      expect(back.map((r) => ({ ...r, score: r.score === null ? null : Number(r.score).toFixed(2), at: String(r.at) }))).toEqual(
        stored.map((r) => ({ ...r, score: r.score === null ? null : Number(r.score).toFixed(2) })),
      );
    }

    // A tuple's Native layout is not counted as it passes: the rows take the local table.
    const tuple = await exportRecording(app, 'as_tuple');
    expect(tuple.via).toEqual(['local']);
    expect(tuple.report.rows).toBe(3);
  });
});
