import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ExportReport } from '../../src/exporter/export-datasource.js';
import type { ExportContext } from '../../src/exporter/export-context.js';
import { rowsState } from '../../src/exporter/rows-state.js';
import { pollUntil } from '../../src/store/poll.js';
import { pushProject } from '../../src/push/push-project.js';
import { exportHere, importHere } from '../../src/worker/run-here.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { openTestApp, query, queryEngine, s3Endpoint, testEnv, useServerStore, withBucketAndProject } from '../helpers/embedded.js';
import { LIMITED_USER, PASSWORD_USER } from '../../scripts/local-clickhouse.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
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

type StageRecord = { stage?: string; via?: string; outcome?: string; reason?: string };

/** An export here whose stage records are kept, to see which way the rows went. */
async function exportRecording(
  app: App,
  name: string,
  adjust: (ctx: ExportContext) => ExportContext = (ctx) => ctx,
): Promise<{ report: ExportReport; via: unknown[]; records: StageRecord[]; lines: string[] }> {
  const records: StageRecord[] = [];
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line), records.push(JSON.parse(line) as StageRecord);
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const report = await exportHere(app, name, { trigger: 'on-demand' }, { adjustExport: (ctx) => adjust({ ...ctx, log }) });
  expect(report.error?.message).toBeUndefined();
  return { report, via: records.filter((r) => r.stage === 'export_rows').map((r) => r.via), records, lines };
}

/** The rows of an exported file, read back by the engine. */
async function fileRows(app: App, uri: string, format: string): Promise<Array<Record<string, unknown>>> {
  const url = `${s3Endpoint()}/${uri.slice('s3://'.length)}`;
  return queryEngine(app, 'SELECT * FROM s3({url:String}, {k:String}, {s:String}, {f:String}, {st:String}) ORDER BY id', { url, k: S3_KEY, s: S3_SECRET, f: format, st: STRUCTURE });
}

/**
 * With a server as the store, a run's rows stream from the server straight into the worker engine's
 * write of the file: read by the engine itself where the rows provably stayed those counted, else
 * through Node, counted as they pass; rows whose Native layout the count does not know take the
 * local table first.
 */
describe('export from a ClickHouse server, streamed', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  /** The test rows imported into a server table `name` that exports them to `out/<name>/`; the app, opened on `env`. */
  async function imported(name: string, format: string, strategy: 'new' | 'full', env: Record<string, string> = {}, more: string[] = []): Promise<App> {
    await putObjects(s3, bucket, { [`${name}/a.csv`]: `${ROWS.join('\n')}\n` });
    project.writeDatasource(name, importDatasource(`s3://${bucket}/${name}/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/${name}/`, `EXPORT_FORMAT ${format}`, `EXPORT_STRATEGY ${strategy}`, ...more, ''].join('\n'));
    const app = await openTestApp(project.dir, env);
    await pushProject(app, { dryRun: false });
    expect((await importHere(app, name, { trigger: 'on-demand' })).rows).toBe(3);
    return app;
  }

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
      // The engine read the server itself: nothing went through Node.
      expect(via).toEqual(['engine']);
      expect([report.rows, report.files.map((f) => f.rows)]).toEqual([3, [3]]);
      const back = await fileRows(app, report.files[0]!.uri, format);
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

  it('writes the file again through Node, counted, when the table changed between the count and the engine read', async () => {
    const app = await imported('moving', 'csv', 'full');
    const store = await app.store();

    // A row arrives after the run counted 3 and before the engine reads the server.
    let arrived = false;
    const arriving = (ctx: ExportContext): ExportContext => {
      const staging = ctx.staging!;
      const client = new Proxy(staging.client, {
        get(target, key, receiver) {
          if (key !== 'command') return Reflect.get(target, key, receiver);
          return async (params: { query: string }) => {
            if (!arrived && params.query.includes('bp_server_rows')) {
              arrived = true;
              await store.client.command({ query: "INSERT INTO moving (id, name, score, at, tags, maybe) VALUES (4, 'late', 4, '2024-01-04 00:00:00', [], NULL)" });
            }
            return target.command(params as Parameters<typeof target.command>[0]);
          };
        },
      });
      return { ...ctx, staging: { ...staging, client } };
    };
    const { report, via, records } = await exportRecording(app, 'moving', arriving);
    expect(arrived).toBe(true);
    expect(records.filter((r) => r.stage === 'export_engine_read').map((r) => r.outcome)).toEqual(['changed']);
    expect(via).toEqual(['streamed']);
    // The report's count is what the file holds.
    expect([report.rows, report.files.map((f) => f.rows)]).toEqual([4, [4]]);
    expect((await fileRows(app, report.files[0]!.uri, 'CSVWithNames')).map((r) => Number(r.id))).toEqual([1, 2, 3, 4]);
  });

  it("tells a table's rows changed by an insert or a delete, not by a merge that keeps them", async () => {
    const app = await openTestApp(project.dir);
    const client = (await app.store()).client;
    await client.command({ query: 'CREATE TABLE parts_state (id UInt32) ENGINE = MergeTree PARTITION BY id % 2 ORDER BY id' });
    const state = () => rowsState(client, 'parts_state');
    const empty = await state();
    await client.command({ query: 'INSERT INTO parts_state VALUES (1), (2)' });
    const two = await state();
    expect(two).not.toBe(empty);
    await client.command({ query: 'INSERT INTO parts_state VALUES (3)' });
    const three = await state();
    expect(three).not.toBe(two);
    // A merge joins the two parts of partition 1 and keeps their rows.
    await client.command({ query: 'OPTIMIZE TABLE parts_state FINAL' });
    expect(await state()).toBe(three);
    await client.command({ query: 'ALTER TABLE parts_state DELETE WHERE id = 3' });
    await pollUntil(async () => (await query<{ n: string }>(app, "SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = 'parts_state' AND NOT is_done")).every((r) => Number(r.n) === 0), { firstMs: 20, maxMs: 200 });
    expect(await state()).not.toBe(three);
  });

  it('lets the engine read the server as a user with a password that a URL must encode', async () => {
    const url = new URL(testEnv().BUCKETPIPE_CLICKHOUSE_URL!);
    url.username = PASSWORD_USER.name;
    url.password = encodeURIComponent(PASSWORD_USER.password);
    const app = await imported('as_user', 'csv', 'new', { BUCKETPIPE_CLICKHOUSE_URL: url.toString() });

    const { report, via, lines } = await exportRecording(app, 'as_user');
    expect(via).toEqual(['engine']);
    expect([report.rows, report.files.map((f) => f.rows)]).toEqual([3, [3]]);
    expect((await fileRows(app, report.files[0]!.uri, 'CSVWithNames')).map((r) => Number(r.id))).toEqual([1, 2, 3]);
    expect(lines.filter((l) => l.includes(PASSWORD_USER.password) || l.includes(encodeURIComponent(PASSWORD_USER.password)))).toEqual([]);
  });

  it('copies the rows of a run in parts into the worker engine by its own read of the server, or through Node when it cannot', async () => {
    const app = await imported('in_parts', 'csv', 'full', {}, ['EXPORT_MAX_ROWS_PER_FILE 2']);
    const refused = (ctx: ExportContext): ExportContext => ({ ...ctx, store: { ...ctx.store, engineAccess: { ...ctx.store.engineAccess!, password: 'not-the-password-4711' } } });
    for (const [adjust, way] of [[undefined, 'engine'], [refused, 'node']] as const) {
      const { report, records, lines } = await exportRecording(app, 'in_parts', adjust);
      expect(records.filter((r) => r.stage === 'export_local_rows').map((r) => r.via)).toEqual([way]);
      // The engine's failed read is logged with its reason, and without the password it tried.
      expect(records.filter((r) => r.stage === 'export_local_rows').map((r) => /password/i.test(String((r as { engineFailed?: string }).engineFailed)))).toEqual([way === 'node']);
      expect(lines.filter((l) => l.includes('not-the-password-4711'))).toEqual([]);
      expect(report.files.map((f) => f.rows)).toEqual([2, 1]);
      const ids: number[] = [];
      for (const file of report.files) ids.push(...(await fileRows(app, file.uri, 'CSVWithNames')).map((r) => Number(r.id)));
      expect(ids.sort()).toEqual([1, 2, 3]);
    }
  });

  it("fails a run whose read the user's limits would cut short, instead of exporting part of the rows", async () => {
    // Three objects of 10 rows, three parts: a read cut short at the end of the block that passes
    // 12 rows would hold 20 of the 30.
    const line = (id: number) => `${id},n${id},1.5,2024-01-01 10:00:00,[],x`;
    await putObjects(s3, bucket, Object.fromEntries([0, 1, 2].map((p) => [`limited/${p}.csv`, `${[ROWS[0], ...Array.from({ length: 10 }, (_, i) => line(p * 10 + i))].join('\n')}\n`])));
    project.writeDatasource('limited', importDatasource(`s3://${bucket}/limited/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/limited/`, 'EXPORT_FORMAT csv', 'EXPORT_STRATEGY full', ''].join('\n'));
    const loader = await openTestApp(project.dir);
    await pushProject(loader, { dryRun: false });
    expect((await importHere(loader, 'limited', { trigger: 'on-demand' })).rows).toBe(30);

    const url = new URL(testEnv().BUCKETPIPE_CLICKHOUSE_URL!);
    url.username = LIMITED_USER.name;
    const app = await openTestApp(project.dir, { BUCKETPIPE_CLICKHOUSE_URL: url.toString() });
    for (const way of [(ctx: ExportContext) => ctx, (ctx: ExportContext) => ({ ...ctx, store: { ...ctx.store, engineAccess: undefined } })]) {
      const report = await exportHere(app, 'limited', { trigger: 'on-demand' }, { adjustExport: way });
      expect(report.status).toBe('error');
      expect(report.error?.message).toMatch(/Limit for result exceeded, max rows: 12/);
    }
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'out/limited/' }));
    expect(left.KeyCount ?? 0).toBe(0);
  });

  it('refuses at push an EXPORT_QUERY of a new run that this server cannot filter, naming the file', async () => {
    project.writeDatasource('unfiltered', importDatasource(`s3://${bucket}/unfiltered/*.csv`, { schema: SCHEMA }) + ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${bucket}/out/unfiltered/`, 'EXPORT_FORMAT csv', 'EXPORT_STRATEGY new', 'EXPORT_QUERY SELECT id FROM unfiltered', ''].join('\n'));
    const app = await openTestApp(project.dir);
    try {
      await expect(pushProject(app, { dryRun: false })).rejects.toThrow(/datasources\/unfiltered\.datasource:\d+: EXPORT_QUERY with EXPORT_STRATEGY new needs a server that filters table reads \(ClickHouse 22\.7 or later; this one is 18\.16/);
      expect(await query(app, "SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'unfiltered'")).toEqual([]);
    } finally {
      // The file's other tests push the same project.
      rmSync(join(project.dir, 'datasources', 'unfiltered.datasource'));
    }
  });

  it('streams the rows through Node when the engine cannot read the server, and never logs the password it tried', async () => {
    const app = await imported('refused', 'parquet', 'full');

    const password = 'not-the-password-4711';
    const refused = (ctx: ExportContext): ExportContext => ({ ...ctx, store: { ...ctx.store, engineAccess: { ...ctx.store.engineAccess!, password } } });
    const { report, via, records, lines } = await exportRecording(app, 'refused', refused);
    const failed = records.filter((r) => r.stage === 'export_engine_read');
    expect(failed.map((r) => r.outcome)).toEqual(['failed']);
    expect(failed[0]!.reason).toMatch(/password/i);
    expect(lines.filter((l) => l.includes(password))).toEqual([]);
    expect(via).toEqual(['streamed']);
    expect([report.rows, report.files.map((f) => f.rows)]).toEqual([3, [3]]);
    expect((await fileRows(app, report.files[0]!.uri, 'Parquet')).map((r) => Number(r.id))).toEqual([1, 2, 3]);
  });
});
