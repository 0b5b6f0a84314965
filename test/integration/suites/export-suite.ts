import { importHere, exportHere } from '../../../src/worker/run-here.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { type ExportReport } from '../../../src/exporter/export-datasource.js';
import { pushProject } from '../../../src/push/push-project.js';
import { createBucket, putObjects, s3Client } from '../../helpers/bucket.js';
import { closeTestApp, openTestApp, query, queryEngine, s3Endpoint } from '../../helpers/embedded.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../../helpers/s3-server.js';

const SCHEMA = ['    `id` Int64,', '    `name` String,', '    `score` Nullable(Float64),', '    `day` Date'].join('\n');
const STRUCTURE = 'id Int64, name String, score Nullable(Float64), day Date';
const ROWS = [
  'id,name,score,day',
  '1,plain,1.5,2024-01-01',
  '2,"with, comma",,2024-01-02',
  '3,"with ""quotes""",3,2024-01-03',
  '4,"multi\nline",4.25,2024-01-04',
  '5,ünïcödé,-5,2024-01-05',
];

/** The export suite, run against every store (see export*.test.ts). */
export function defineExportSuite(store: string): void {
  describe(`export to S3 (${store})`, () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;

  beforeAll(async () => {
    bucket = await createBucket(s3);
    project = createProjectDir(s3Endpoint());
    await putObjects(s3, bucket, { 'in/a.csv': ROWS.join('\n') + '\n' });
  });
  afterAll(async () => {
    await closeTestApp();
    project.remove();
  });

  /** A datasource that imports in/*.csv and exports with these EXPORT_* lines. */
  async function setUp(name: string, exportLines: string[]): Promise<App> {
    project.writeDatasource(
      name,
      importDatasource(`s3://${bucket}/in/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/${name}/`, ...exportLines].join('\n') + '\n',
    );
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    await importHere(app, name, { trigger: 'on-demand' });
    return app;
  }

  async function runExport(app: App, name: string): Promise<ExportReport> {
    const report = await exportHere(app, name, { trigger: 'on-demand' });
    expect(report.error?.message).toBeUndefined();
    return report;
  }

  async function readBack(app: App, uri: string, format: string, settings = ''): Promise<Record<string, unknown>[]> {
    const url = `${s3Endpoint()}/${uri.slice('s3://'.length)}`;
    return queryEngine(app, `SELECT * FROM s3({url:String}, {k:String}, {s:String}, {f:String}, {st:String}) ORDER BY id ${settings}`, { url, k: S3_KEY, s: S3_SECRET, f: format, st: STRUCTURE });
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  }

  const cases: Array<[string, string[], string, string]> = [
    ['csv_plain', ['EXPORT_FORMAT csv'], 'CSVWithNames', '.csv'],
    ['csv_gzip', ['EXPORT_FORMAT csv', 'EXPORT_COMPRESSION gzip'], 'CSVWithNames', '.csv.gz'],
    ['jsonl_plain', ['EXPORT_FORMAT jsonl'], 'JSONEachRow', '.jsonl'],
    ['jsonl_gzip', ['EXPORT_FORMAT jsonl', 'EXPORT_COMPRESSION gzip'], 'JSONEachRow', '.jsonl.gz'],
    ['pq_zstd', ['EXPORT_FORMAT parquet'], 'Parquet', '.parquet'],
    ['pq_snappy', ['EXPORT_FORMAT parquet', 'EXPORT_PARQUET_COMPRESSION snappy'], 'Parquet', '.parquet'],
    ['pq_none', ['EXPORT_FORMAT parquet', 'EXPORT_PARQUET_COMPRESSION none', 'EXPORT_PARQUET_ROW_GROUP_SIZE 2'], 'Parquet', '.parquet'],
  ];
  for (const [name, lines, format, ending] of cases) {
    it(`round-trips every row through ${name}`, async () => {
      const app = await setUp(name, lines);
      const report = await runExport(app, name);
      expect(report.files).toHaveLength(1);
      expect(report.files[0]!.uri.endsWith(ending)).toBe(true);
      expect(report.rows).toBe(5);
      const back = await readBack(app, report.files[0]!.uri, format);
      const original = await query(app, `SELECT * FROM ${name} ORDER BY id`);
      expect(back).toEqual(original);
      expect(back).toHaveLength(5);
    });
  }

  it('splits into parts of at most EXPORT_MAX_ROWS_PER_FILE rows, numbered from 00000', async () => {
    const app = await setUp('chunked', ['EXPORT_FORMAT jsonl', 'EXPORT_MAX_ROWS_PER_FILE 2', 'EXPORT_STRATEGY full']);
    const report = await runExport(app, 'chunked');
    expect(report.files.map((f) => [f.uri.replace(/^.*-part-/, ''), f.rows])).toEqual([['00000.jsonl', 2], ['00001.jsonl', 2], ['00002.jsonl', 1]]);
    const keys = await keysUnder('out/chunked/');
    expect(keys).toHaveLength(3);
    let all: Record<string, unknown>[] = [];
    for (const f of report.files) all = all.concat(await readBack(app, f.uri, 'JSONEachRow'));
    expect(all.map((r) => r.id).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('renders every placeholder of EXPORT_FILE_TEMPLATE', async () => {
    const template = '{{TABLE}}/{{TABLE_HYPHEN}}/%Y/%m/%d/%H-%M-%S/%F_%T/{{YEAR}}{{MONTH}}{{DAY}}{{HOUR}}{{MINUTE}}/{jobId}/{{SYNC_ID}}/{{UUID}}-{{PART}}.{{FORMAT}}';
    const app = await setUp('tmpl_data', ['EXPORT_FORMAT csv', 'EXPORT_COMPRESSION gzip', `EXPORT_FILE_TEMPLATE ${template}`]);
    const report = await runExport(app, 'tmpl_data');
    const t = new Date(report.startedAt);
    const p = (n: number) => String(n).padStart(2, '0');
    const [Y, m, d, H, M, S] = [t.getUTCFullYear(), p(t.getUTCMonth() + 1), p(t.getUTCDate()), p(t.getUTCHours()), p(t.getUTCMinutes()), p(t.getUTCSeconds())];
    const key = report.files[0]!.uri.slice(`s3://${bucket}/out/tmpl_data/`.length);
    const expected = `tmpl_data/tmpl-data/${Y}/${m}/${d}/${H}-${M}-${S}/${Y}-${m}-${d}_${H}:${M}:${S}/${Y}${m}${d}${H}${M}/${report.jobId}/${report.runId}/`;
    expect(key.startsWith(expected), key).toBe(true);
    expect(key.slice(expected.length)).toMatch(/^[0-9a-f-]{36}-00000\.csv\.gz$/);
  });

  it('exports only new rows with EXPORT_STRATEGY new, all rows with full, and nothing when nothing is new', async () => {
    const app = await setUp('incremental', ['EXPORT_FORMAT csv']);
    project.writeDatasource('everything', importDatasource(`s3://${bucket}/in/*.csv`, { schema: SCHEMA }) + `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${bucket}/out/everything/\nEXPORT_STRATEGY full\n`);
    const app2 = await openTestApp(project.dir);
    await pushProject(app2, { dryRun: false });
    await importHere(app2, 'everything', { trigger: 'on-demand' });
    void app;
    const first = await runExport(app2, 'incremental');
    expect(first.rows).toBe(5);
    const idle = await runExport(app2, 'incremental');
    expect(idle.files).toEqual([]);
    await putObjects(s3, bucket, { 'in/b.csv': 'id,name,score,day\n6,six,6,2024-01-06\n7,seven,,2024-01-07\n' });
    await importHere(app2, 'incremental', { trigger: 'on-demand' });
    await importHere(app2, 'everything', { trigger: 'on-demand' });
    const second = await runExport(app2, 'incremental');
    expect(second.rows).toBe(2);
    expect((await readBack(app2, second.files[0]!.uri, 'CSVWithNames')).map((r) => r.id)).toEqual([6, 7]);
    const full1 = await runExport(app2, 'everything');
    const full2 = await runExport(app2, 'everything');
    expect([full1.rows, full2.rows]).toEqual([7, 7]);
  });

  it('writes an empty file only with EXPORT_WRITE_EMPTY true, and applies CSV options and column case', async () => {
    const app = await setUp('shaped', ['EXPORT_FORMAT csv', 'EXPORT_CSV_DELIMITER ";"', 'EXPORT_COLUMN_CASE upper', 'EXPORT_QUERY SELECT id, name FROM shaped WHERE id <= 2', 'EXPORT_STRATEGY full']);
    const report = await runExport(app, 'shaped');
    const url = `${s3Endpoint()}/${report.files[0]!.uri.slice('s3://'.length)}`;
    const text = await (await fetch(url)).text();
    expect(text).toBe('"ID";"NAME"\n1;"plain"\n2;"with, comma"\n');

    // Two columns that the case gives one name: the run fails naming both, and writes nothing.
    const clash = await setUp('clash', ['EXPORT_FORMAT csv', 'EXPORT_COLUMN_CASE upper', 'EXPORT_QUERY SELECT id, name, name AS Name FROM clash', 'EXPORT_STRATEGY full']);
    const refused = await exportHere(clash, 'clash', { trigger: 'on-demand' });
    expect(refused.status).toBe('error');
    expect(refused.error?.message).toBe('datasource clash: EXPORT_COLUMN_CASE upper gives the columns name and Name the same name NAME; rename one with EXPORT_QUERY, or drop EXPORT_COLUMN_CASE.');
    expect(await keysUnder('out/clash/')).toEqual([]);

    project.writeDatasource('empty_out', importDatasource(`s3://${bucket}/nothing-here/*.csv`, { schema: SCHEMA }) + `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${bucket}/out/empty_out/\nEXPORT_STRATEGY full\nEXPORT_WRITE_EMPTY true\nEXPORT_CSV_HEADER true\n`);
    project.writeDatasource('empty_skip', importDatasource(`s3://${bucket}/nothing-here/*.csv`, { schema: SCHEMA }) + `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${bucket}/out/empty_skip/\nEXPORT_STRATEGY full\n`);
    const app2 = await openTestApp(project.dir);
    await pushProject(app2, { dryRun: false });
    const written = await runExport(app2, 'empty_out');
    expect(written.files.map((f) => f.rows)).toEqual([0]);
    const header = await (await fetch(`${s3Endpoint()}/${written.files[0]!.uri.slice('s3://'.length)}`)).text();
    expect(header).toBe('"id","name","score","day"\n');
    const skipped = await runExport(app2, 'empty_skip');
    expect(skipped.files).toEqual([]);
    expect(await keysUnder('out/empty_skip/')).toEqual([]);
  });

  it('never writes over a file that exists: the run fails before writing and the file stays as it was', async () => {
    const app = await setUp('kept', ['EXPORT_FORMAT csv', 'EXPORT_STRATEGY full', 'EXPORT_FILE_TEMPLATE {{TABLE}}/{jobId}.{{FORMAT}}']);
    // Another writer's file at the very key this run's template gives.
    await putObjects(s3, bucket, { 'out/kept/kept/fixed-job.csv': 'not ours\n' });
    const refused = await exportHere(app, 'kept', { trigger: 'on-demand', jobId: 'fixed-job' });
    expect(refused.status).toBe('error');
    expect(refused.error).toMatchObject({ code: 'KEY_EXISTS', retryable: false });
    expect(refused.error!.message).toBe(
      `datasource kept: s3://${bucket}/out/kept/kept/fixed-job.csv exists already (not written by an export of this datasource); a run never overwrites a file, so nothing was written. Check EXPORT_FILE_TEMPLATE.`,
    );
    expect(await keysUnder('out/kept/')).toEqual(['out/kept/kept/fixed-job.csv']);
    expect(await (await fetch(`${s3Endpoint()}/${bucket}/out/kept/kept/fixed-job.csv`)).text()).toBe('not ours\n');
    // A run of its own writes its own key, and a repeat of that run's key is refused in turn, naming the run.
    const written = await runExport(app, 'kept');
    expect(written.rows).toBe(Number((await query<{ n: string }>(app, 'SELECT count() AS n FROM kept'))[0]!.n));
    const repeated = await exportHere(app, 'kept', { trigger: 'on-demand', jobId: written.jobId });
    expect(repeated.error?.message).toContain(`exists already (written by export run ${written.runId})`);
    expect((await keysUnder('out/kept/')).sort()).toEqual(['out/kept/kept/fixed-job.csv', `out/kept/kept/${written.jobId}.csv`].sort());
  });

  it('refuses a template without {{PART}} or {{UUID}} when a run writes several files, and writes nothing', async () => {
    const app = await setUp('collide', ['EXPORT_FORMAT csv', 'EXPORT_MAX_ROWS_PER_FILE 2', 'EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}']);
    const report = await exportHere(app, 'collide', { trigger: 'on-demand' });
    expect(report.status).toBe('error');
    expect(report.error?.message).toContain('neither {{PART}} nor {{UUID}}');
    expect(await keysUnder('out/collide/')).toEqual([]);
    const runs = await query<{ status: string }>(app, "SELECT status FROM _bucketpipe_exports FINAL WHERE datasource = 'collide'");
    expect(runs).toEqual([{ status: 'failed' }]);
  });
});
}
