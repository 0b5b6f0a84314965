import { importHere } from '../../../src/worker/run-here.js';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { pushProject } from '../../../src/push/push-project.js';
import { type ImportReport, type ObjectReport } from '../../../src/importer/sync-datasource.js';
import { putObjects, s3Client } from '../../helpers/bucket.js';
import { openTestApp, query, s3Endpoint, testEnv, withBucketAndProject } from '../../helpers/embedded.js';
import { runCli } from '../../helpers/cli.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../../helpers/s3-server.js';

/**
 * The bad-input matrix (issue 7). Every object case lands in ONE import run next to good objects, so
 * each case also proves the run loses nothing else: good objects load fully, a bad row costs only
 * itself (quarantined with its reason, the object's URI and its row), and an object that cannot be
 * read fails alone with an error that names it. Run against every store (see bad-input*.test.ts).
 */
export function defineBadInputSuite(store: string): void {
  describe(`bad input (${store})`, () => {
    const s3 = s3Client(s3Endpoint());
    let bucket: string;
    let project: TestProjectDir;
    withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));
    const uri = (key: string) => `s3://${bucket}/${key}`;

    describe('objects of one run: each fails or quarantines alone', () => {
      let app: App;
      let report: ImportReport;
      const objectReport = (key: string): ObjectReport | undefined => report.objects.find((o) => o.uri === uri(`mixed/${key}`));

      beforeAll(async () => {
        project.writeDatasource('mixed', importDatasource(`s3://${bucket}/mixed/**`, { schema: MIXED_SCHEMA }));
        app = await openTestApp(project.dir);
        const objects: Record<string, string | Uint8Array> = {};
        // Buffers, not bare byte arrays: the SDK would send those as a stream of unknown length.
        for (const c of OBJECT_CASES) objects[`mixed/${c.key}`] = typeof c.body === 'function' ? Buffer.from(await c.body(app, bucket)) : c.body;
        await putObjects(s3, bucket, objects);
        await pushProject(app, { dryRun: false });
        report = await importHere(app, 'mixed', { trigger: 'on-demand' });
      });

      for (const c of OBJECT_CASES) {
        it(c.name, async () => {
          const object = objectReport(c.key);
          expect(object, `${c.key} was not taken by the run`).toBeDefined();
          if (c.failure) {
            expect(object!.status).toBe('failed');
            expect(object!.error?.message).toContain(uri(`mixed/${c.key}`));
            expect(object!.error?.message).toMatch(c.failure);
            expect(object!.error?.retryable).toBe(false);
          } else {
            expect(object!.error?.message).toBeUndefined();
            expect(object!).toMatchObject({ status: 'imported', rows: c.rows.length, quarantined: c.quarantined?.length ?? 0 });
          }
          // Exactly the expected rows of this object are in the table, nothing else of it.
          const rows = await query<{ n: number; amount: number; note: string | null }>(
            app,
            'SELECT n, amount, note FROM mixed WHERE src = {src:String} ORDER BY n',
            { src: c.src },
          );
          expect(rows).toEqual(c.rows.map(([n, note]) => ({ n, amount: n * 10, note })));
          const quarantined = await query<{ c__row: number; c__error_column: string[]; c__error: string[]; c__raw: string | null }>(
            app,
            'SELECT c__row, c__error_column, c__error, c__raw FROM mixed_quarantine WHERE c__source = {uri:String} ORDER BY c__row',
            { uri: uri(`mixed/${c.key}`) },
          );
          expect(quarantined.map((q) => Number(q.c__row))).toEqual((c.quarantined ?? []).map((q) => q.row));
          (c.quarantined ?? []).forEach((q, i) => {
            const got = quarantined[i]!;
            expect(got.c__error_column, `row ${q.row}`).toEqual(q.columns);
            expect(got.c__error.join(' | '), `row ${q.row}`).toMatch(q.error);
            if (q.raw !== undefined) expect(got.c__raw, `row ${q.row}`).toEqual(q.raw);
          });
          const ledger = await query<{ status: string; error: string }>(
            app,
            `SELECT argMax(status, version) AS status, argMax(error, version) AS error FROM _bucketpipe_objects
             WHERE datasource = 'mixed' AND key = {key:String} GROUP BY key`,
            { key: `mixed/${c.key}` },
          );
          expect(ledger).toEqual([{ status: c.failure ? 'failed' : 'done', error: c.failure ? object!.error!.message : '' }]);
        });
      }

      it('loses nothing else: the run holds every good row once and each bad row in quarantine', async () => {
        expect(report.objects).toHaveLength(OBJECT_CASES.length);
        expect(report.status).toBe('partial');
        const rows = OBJECT_CASES.reduce((s, c) => s + c.rows.length, 0);
        const quarantined = OBJECT_CASES.reduce((s, c) => s + (c.quarantined?.length ?? 0), 0);
        expect({ rows: report.rows, quarantined: report.quarantined }).toEqual({ rows, quarantined });
        expect(await query(app, 'SELECT count() AS total, uniqExact(src, n) AS distinct FROM mixed')).toEqual([{ total: rows, distinct: rows }]);
        expect(await query(app, 'SELECT count() AS n FROM mixed_quarantine')).toEqual([{ n: quarantined }]);
        const failed = OBJECT_CASES.filter((c) => c.failure).map((c) => uri(`mixed/${c.key}`)).sort();
        expect(report.objects.filter((o) => o.status === 'failed').map((o) => o.uri).sort()).toEqual(failed);
        const [job] = await query<{ status: string; objects: number; failed_objects: number; rows: number; quarantined: number }>(
          app,
          'SELECT status, objects, failed_objects, rows, quarantined FROM _bucketpipe_jobs FINAL WHERE job_id = {id:String}',
          { id: report.jobId },
        );
        expect(job).toEqual({ status: 'partial', objects: OBJECT_CASES.length, failed_objects: failed.length, rows, quarantined });
      });
    });

    describe('a datasource whose SCHEMA types cannot hold the data', () => {
      let app: App;
      let report: ImportReport;
      beforeAll(async () => {
        project.writeDatasource('narrow', importDatasource(`s3://${bucket}/narrow/*`, { schema: NARROW_SCHEMA }));
        app = await openTestApp(project.dir);
        await putObjects(s3, bucket, { 'narrow/values.csv': narrowCsv() });
        await writeParquet(app, 'narrow', bucket, 'narrow/values.parquet', "SELECT 'pq' AS src, toUInt32(number + 1) AS n, toInt64([7, 300][number + 1]) AS small FROM numbers(2)");
        await pushProject(app, { dryRun: false });
        report = await importHere(app, 'narrow', { trigger: 'on-demand' });
      });

      it('loads the rows that fit, exactly, and fails no object', async () => {
        expect(report.objects.map((o) => [o.status, o.error?.message])).toEqual([['imported', undefined], ['imported', undefined]]);
        expect(report.rows).toBe(3);
        expect(report.quarantined).toBe(NARROW_MISFITS.length + 1);
        expect(await query(app, "SELECT n, small, toString(price) AS price, toString(day) AS day, toString(at) AS at, toString(kind) AS kind, code, toString(id) AS id FROM narrow WHERE src = 'csv' ORDER BY n")).toEqual([
          { n: 1, ...NARROW_GOOD },
          { n: NARROW_MISFITS.length + 2, ...NARROW_GOOD },
        ]);
      });

      for (const [i, m] of NARROW_MISFITS.entries()) {
        it(`quarantines ${m.value} for ${m.type} with the column, the reason and the row`, async () => {
          const rows = await query<{ c__row: number; c__error_column: string[]; c__error: string[]; c__source: string }>(
            app,
            "SELECT c__row, c__error_column, c__error, c__source FROM narrow_quarantine WHERE c__source LIKE '%.csv' AND c__row = {row:UInt64}",
            { row: i + 2 },
          );
          expect(rows).toHaveLength(1);
          expect(rows[0]).toMatchObject({ c__error_column: [m.column], c__source: uri('narrow/values.csv') });
          expect(rows[0]!.c__error).toEqual([`${m.column}: value "${m.value}" is not a valid ${m.type}`]);
        });
      }

      it('quarantines a Parquet value its column cannot hold (300 for UInt8) and loads the other row', async () => {
        expect(await query(app, "SELECT n, small FROM narrow WHERE src = 'pq'")).toEqual([{ n: 1, small: 7 }]);
        expect(await query(app, 'SELECT c__row, small, c__error_column FROM narrow_quarantine WHERE c__source = {uri:String}', { uri: uri('narrow/values.parquet') })).toEqual([
          { c__row: 2, small: '300', c__error_column: ['small'] },
        ]);
      });
    });

    it('1,000 columns: inferred, created, and every value read back', async () => {
      const names = Array.from({ length: 1000 }, (_, i) => `c_${i}`);
      // One column in ten numeric: the split of this table passes the engine's default query limits.
      const value = (r: number, i: number) => (i % 10 === 0 ? r * 1000 + i : `t${r}_${i}`);
      const csv = [names.join(','), ...[1, 2, 3].map((r) => names.map((_, i) => value(r, i)).join(','))].join('\n') + '\n';
      await putObjects(s3, bucket, { 'wide/a.csv': csv });
      project.writeDatasource('wide', importDatasource(`s3://${bucket}/wide/*.csv`));
      const app = await openTestApp(project.dir);
      await pushProject(app, { dryRun: false });
      const report = await importHere(app, 'wide', { trigger: 'on-demand' });
      expect(report.error?.message).toBeUndefined();
      expect(report.objects.map((o) => [o.status, o.rows, o.quarantined])).toEqual([['imported', 3, 0]]);
      expect(await columnNames(app, 'wide')).toEqual(names);
      expect(await query(app, 'SELECT * FROM wide ORDER BY c_0')).toEqual(
        [1, 2, 3].map((r) => Object.fromEntries(names.map((name, i) => [name, value(r, i)]))),
      );
    });

    describe('column names with backticks, quotes, ;, --, newlines and SQL keywords, and hostile values', () => {
      let app: App;
      let tablesBefore: string[];
      beforeAll(async () => {
        const csvField = (v: string) => `"${v.replace(/"/g, '""')}"`;
        await putObjects(s3, bucket, {
          'hostile/a.csv': [HOSTILE_NAMES.map(csvField).join(','), HOSTILE_VALUES.map(csvField).join(',')].join('\n') + '\n',
          'hostile/b.ndjson': [HOSTILE_VALUES, [...HOSTILE_VALUES.slice(0, -1), 'oops']].map((values) => JSON.stringify(Object.fromEntries(HOSTILE_NAMES.map((n, i) => [n, values[i]])))).join('\n') + '\n',
        });
        project.writeDatasource('hostile_csv', importDatasource(`s3://${bucket}/hostile/*.csv`));
        project.writeDatasource('hostile_declared', importDatasource(`s3://${bucket}/hostile/*.ndjson`, { schema: hostileSchema() }));
        app = await openTestApp(project.dir);
        const client = (await app.store()).client;
        await client.command({ query: 'CREATE TABLE IF NOT EXISTS victim (x String) ENGINE = MergeTree ORDER BY x' });
        await client.command({ query: "INSERT INTO victim VALUES ('still here')" });
        await pushProject(app, { dryRun: false });
        tablesBefore = await tableNames(app);
        for (const name of ['hostile_csv', 'hostile_declared']) {
          const report = await importHere(app, name, { trigger: 'on-demand' });
          expect(report.objects.map((o) => o.error?.message)).toEqual([undefined]);
        }
      });

      it('inferred from a CSV header: names kept exactly, values read back exactly', async () => {
        expect(await columnNames(app, 'hostile_csv')).toEqual(HOSTILE_NAMES);
        const rows = await query<Record<string, string>>(app, 'SELECT * FROM hostile_csv');
        expect(rows).toEqual([Object.fromEntries(HOSTILE_NAMES.map((n, i) => [n, HOSTILE_VALUES[i]]))]);
      });

      it('declared in SCHEMA and read from NDJSON keys: the same names and values, a misfit quarantined under its name', async () => {
        const rows = await query<Record<string, unknown>>(app, 'SELECT * FROM hostile_declared');
        expect(rows).toEqual([Object.fromEntries(DECLARABLE.map((n) => [n, n === NUMERIC_NAME ? 42 : HOSTILE_VALUES[HOSTILE_NAMES.indexOf(n)]]))]);
        const quarantined = await query<Record<string, unknown>>(app, 'SELECT c__row, c__error_column, c__error FROM hostile_declared_quarantine');
        expect(quarantined).toEqual([{ c__row: 2, c__error_column: [NUMERIC_NAME], c__error: [`${NUMERIC_NAME}: value "oops" is not a valid Int64`] }]);
      });

      it('no SQL is injected: no table appeared or went away, and the others are untouched', async () => {
        expect(await tableNames(app)).toEqual(tablesBefore);
        expect(await query(app, 'SELECT x FROM victim')).toEqual([{ x: 'still here' }]);
      });
    });

    describe('push is all or nothing: every schema, declared or inferred, is checked against the store before anything is made', () => {
      let strict: TestProjectDir;
      const longName = `${'long_name_'.repeat(30)}`;
      beforeAll(async () => {
        strict = createProjectDir(s3Endpoint());
        // Oldest first, so each datasource's reference object is the one here.
        await putObjects(s3, bucket, { 'strict/plain.csv': 'id,label\n1,a\n', 'strict/long.csv': `id,${longName}\n1,far\n` });
        strict.writeDatasource('strict_plain', importDatasource(`s3://${bucket}/strict/plain.csv`));
        strict.writeDatasource('strict_long', importDatasource(`s3://${bucket}/strict/long.csv`));
        strict.writeDatasource('strict_mapped', importDatasource(`s3://${bucket}/strict/*.parquet`));
        const app = await openTestApp(strict.dir);
        // A Map, and a tuple whose elements the Parquet writer names 1 and 2.
        await writeParquet(app, 'strict_mapped', bucket, 'strict/mapped.parquet', "SELECT toInt64(1) AS id, map('a', toInt64(1)) AS m, tuple(toInt64(2), 'b') AS t");
      });
      afterAll(() => strict.remove());

      it(store.startsWith('ClickHouse server') ? 'a server that cannot hold them fails push at their lines, twice, and nothing is created' : 'the embedded engine holds them all: push creates every table and the rows read back', async () => {
        const app = await openTestApp(strict.dir);
        const kind = (await app.store()).kind;
        const names = ['strict_long', 'strict_mapped', 'strict_plain'];
        if (kind === 'server') {
          for (const attempt of [1, 2]) {
            const failure = await pushProject(app, { dryRun: false }).then(() => undefined, (error: unknown) => error as Error);
            expect(failure?.message, `push ${attempt}`).toMatch(/^push found \d+ problems; nothing was changed:/);
            expect(failure?.message).toMatch(
              new RegExp(`^datasources/strict_mapped\\.datasource:1: column m \\(inferred from s3://${bucket}/strict/mapped\\.parquet\\): type Map\\(String, Int64\\): Map is not available on ClickHouse 18\\.16\\.1; use String holding JSON, or Nested\\. Declare the columns in a SCHEMA\\.$`, 'm'),
            );
            expect(failure?.message).toMatch(
              new RegExp(`^datasources/strict_long\\.datasource:1: column long_name_long_name_long_name_long_name_… \\(300 characters\\) \\(inferred from s3://${bucket}/strict/long\\.csv\\): the name is too long for ClickHouse 18\\.16\\.1, which names a column's files after it: 300 bytes as a file name, at most 239 fit; use a shorter name\\. Declare the columns in a SCHEMA\\.$`, 'm'),
            );
            expect(failure?.message).not.toMatch(/strict_plain/);
            // Nothing was made, not even the tables of the datasource that had no problem.
            expect((await tableNames(app)).filter((t) => names.some((n) => t.startsWith(n)))).toEqual([]);
          }
          // The tuple's problem shows once the Map is out of the way: the server's own parser refuses it.
          strict.writeDatasource('strict_mapped', importDatasource(`s3://${bucket}/strict/*.parquet`));
          await writeParquet(app, 'strict_mapped', bucket, 'strict/mapped.parquet', "SELECT toInt64(1) AS id, tuple(toInt64(2), 'b') AS t");
          const failure = await pushProject(app, { dryRun: false }).then(() => undefined, (error: unknown) => error as Error);
          expect(failure?.message).toMatch(new RegExp(`^datasources/strict_mapped\\.datasource:1: column t \\(inferred from s3://${bucket}/strict/mapped\\.parquet\\): type Tuple\\(.*\\) is not a type the store knows \\(.*Syntax error`, 'm'));
          return;
        }
        await pushProject(app, { dryRun: false });
        expect((await tableNames(app)).filter((t) => names.includes(t))).toEqual(names);
        for (const name of names) expect((await importHere(app, name, { trigger: 'on-demand' })).status, name).toBe('ok');
        expect(await query(app, `SELECT id, \`${longName}\` AS value FROM strict_long`)).toEqual([{ id: 1, value: 'far' }]);
        expect(await query(app, "SELECT id, m['a'] AS a, tupleElement(t, 2) AS b FROM strict_mapped")).toEqual([{ id: 1, a: 1, b: 'b' }]);
        expect(await query(app, 'SELECT id, label FROM strict_plain')).toEqual([{ id: 1, label: 'a' }]);
      });
    });

    describe('runs that cannot read their objects', () => {
      let other: TestProjectDir;
      const missing = `bp-missing-${Math.random().toString(36).slice(2, 10)}`;
      const secrets = { CANARY_KEY_ID: 'UNKNOWNKEYID', CANARY_SECRET: CANARY_SECRET, CANARY_TOKEN: CANARY_TOKEN };
      const gone = importDatasource(`s3://${missing}/x/*.csv`, { schema: MIXED_SCHEMA });
      const refused = () => importDatasource(`s3://${bucket}/refused/*.csv`, { schema: MIXED_SCHEMA }).replace('IMPORT_CONNECTION_NAME local', 'IMPORT_CONNECTION_NAME canary');
      // Bucket problems are reported at the first line of the IMPORT_* settings.
      const importLine = (text: string) => text.split('\n').findIndex((l) => l.startsWith('IMPORT_')) + 1;
      beforeAll(async () => {
        other = createProjectDir(s3Endpoint());
        other.writeConnection('canary', canaryConnection(s3Endpoint()));
        other.writeDatasource('nomatch', importDatasource(`s3://${bucket}/nothing-here/*.csv`));
        other.writeDatasource('gone', gone);
        other.writeDatasource('refused', refused());
        other.writeDatasource('badtypes', importDatasource(`s3://${bucket}/mixed/*.csv`, { schema: '    `a` Strin,\n    `c__x` String' }));
        await putObjects(s3, bucket, { 'refused/a.csv': csvRows('refused', ['a']) });
      });
      afterAll(() => other.remove());

      it('push names a missing bucket, refused credentials, an unknown type and a reserved name at their lines, without the secret, and creates nothing', async () => {
        const app = await openTestApp(other.dir, secrets);
        const failure = await pushProject(app, { dryRun: false }).then(() => undefined, (error: unknown) => error as Error);
        expect(failure?.message).toMatch(/^datasources\/badtypes\.datasource:2: column a: type Strin is not a type the store knows/m);
        expect(failure?.message).toMatch(/^datasources\/badtypes\.datasource:3: column c__x: names starting with _bp_ or c__ are reserved/m);
        expect(failure?.message).toMatch(new RegExp(`^datasources/gone\\.datasource:${importLine(gone)}: bucket ${missing} \\(connection local\\): the bucket does not exist\\.`, 'm'));
        expect(failure?.message).toMatch(new RegExp(`^datasources/refused\\.datasource:${importLine(refused())}: bucket ${bucket} \\(connection canary\\): the credentials were refused \\(InvalidAccessKeyId\\)`, 'm'));
        expect(failure?.message).not.toContain(CANARY_SECRET);
        expect(failure?.message).not.toContain(CANARY_TOKEN);
        expect(await tableNames(app)).not.toContain('gone');
      });

      it('a bucket URI with no match: the run is ok, says that nothing matches, and creates nothing', async () => {
        const app = await openTestApp(other.dir, secrets);
        const report = await importHere(app, 'nomatch', { trigger: 'on-demand' });
        expect(report).toMatchObject({ status: 'ok', matched: 0, objects: [], rows: 0 });
        expect(await tableNames(app)).not.toContain('nomatch');
        const events = await query<{ event: string; message: string }>(app, 'SELECT event, message FROM _bucketpipe_events WHERE job_id = {id:String}', { id: report.jobId });
        expect(events).toEqual([{ event: 'no_match', message: `no object matches s3://${bucket}/nothing-here/*.csv` }]);
        // The CLI (another process, reaching this store) says it in words.
        const cli = await runCli(['datasource', 'sync', 'nomatch', '--wait'], { cwd: other.dir, env: testEnv({ ...secrets, REDIS_URL: inject('redisUrl') }) });
        expect(cli.code, cli.stderr).toBe(0);
        expect(cli.stdout).toContain(`no object matches s3://${bucket}/nothing-here/*.csv (yet): check IMPORT_BUCKET_URI`);
      });

      it('a missing bucket: the run fails with an error that names the bucket, in the report and the ops log', async () => {
        const app = await openTestApp(other.dir, secrets);
        const report = await importHere(app, 'gone', { trigger: 'on-demand' });
        expect(report).toMatchObject({ status: 'error', objects: [], rows: 0 });
        expect(report.error).toMatchObject({ code: 'S3_BUCKET_NOT_FOUND', retryable: false });
        expect(report.error!.message).toBe(`bucket ${missing} (connection local): the bucket does not exist. Check IMPORT_BUCKET_URI and the connection's region and endpoint.`);
        expect(await jobRow(app, report.jobId)).toEqual({ status: 'error', error: report.error!.message });
      });

      it('wrong credentials: the run fails with a clear error, and no secret reaches the report or the ops log', async () => {
        const app = await openTestApp(other.dir, secrets);
        const report = await importHere(app, 'refused', { trigger: 'on-demand' });
        expect(report).toMatchObject({ status: 'error', objects: [], rows: 0 });
        expect(report.error).toMatchObject({ code: 'S3_CREDENTIALS', retryable: false });
        expect(report.error!.message).toMatch(new RegExp(`^bucket ${bucket} \\(connection canary\\): the credentials were refused \\(InvalidAccessKeyId\\)\\. Check the access key and secret`));
        expect(await jobRow(app, report.jobId)).toEqual({ status: 'error', error: report.error!.message });
        expect(await tableNames(app)).not.toContain('refused');
        const everything = [JSON.stringify(report)];
        for (const table of ['_bucketpipe_jobs', '_bucketpipe_events', '_bucketpipe_objects', '_bucketpipe_ledger', '_bucketpipe_datasources', '_bucketpipe_revisions', '_bucketpipe_leases']) {
          everything.push(JSON.stringify(await query(app, `SELECT * FROM ${table}`)));
        }
        expect(everything.join('\n')).toContain('credentials were refused');
        for (const secret of [CANARY_SECRET, CANARY_TOKEN]) expect(everything.join('\n')).not.toContain(secret);
      });
    });
  });
}

/** s3rver refuses only unknown access key ids (it checks no signature): these must never be printed or stored. */
const CANARY_SECRET = 'canary-secret-b41d9e07c3';
const CANARY_TOKEN = 'canary-token-6a2f0c8e51';
/** A connection whose keys come from CANARY_* variables, with a session token. */
function canaryConnection(endpoint: string): string {
  return [
    'TYPE s3',
    'S3_REGION "us-east-1"',
    'S3_ACCESS_KEY {{ tb_secret("CANARY_KEY_ID") }}',
    'S3_SECRET {{ tb_secret("CANARY_SECRET") }}',
    'S3_SESSION_TOKEN {{ tb_secret("CANARY_TOKEN") }}',
    `S3_ENDPOINT "${endpoint}"`,
    'S3_FORCE_PATH_STYLE true',
    '',
  ].join('\n');
}

async function jobRow(app: App, jobId: string): Promise<{ status: string; error: string } | undefined> {
  const rows = await query<{ status: string; error: string }>(app, 'SELECT status, error FROM _bucketpipe_jobs FINAL WHERE job_id = {id:String}', { id: jobId });
  return rows[0];
}

const MIXED_SCHEMA = '    `src` String,\n    `n` UInt32,\n    `amount` Int64,\n    `note` Nullable(String)';
const HEADER = 'src,n,amount,note\n';
/** CSV rows `src,n,n*10,note`. */
const csvRows = (src: string, notes: Array<string | null>) => HEADER + notes.map((note, i) => `${src},${i + 1},${(i + 1) * 10},${note ?? ''}\n`).join('');
const TEN_MB = 10 * 1024 * 1024;

interface ObjectCase {
  name: string;
  /** The key under `mixed/`. */
  key: string;
  body: string | Uint8Array | ((app: App, bucket: string) => Promise<Uint8Array>);
  /** The `src` value of the object's rows. */
  src: string;
  /** The rows expected in the table: [n, note] (amount is n × 10). */
  rows: Array<[number, string | null]>;
  quarantined?: Array<{ row: number; columns: string[]; error: RegExp; raw?: string | null }>;
  /** The object fails as a whole with this message (besides its URI). */
  failure?: RegExp;
}

const gzippedRows = gzipSync(Buffer.from(csvRows('gz', Array.from({ length: 5000 }, (_, i) => `row ${i}`))));
const parquetRows = (src: string, count: number) =>
  `SELECT '${src}' AS src, toUInt32(number + 1) AS n, toInt64((number + 1) * 10) AS amount, concat('p', toString(number + 1)) AS note FROM numbers(${count})`;

const OBJECT_CASES: ObjectCase[] = [
  { name: 'a good CSV object loads fully', key: 'good.csv', src: 'good_csv', body: csvRows('good_csv', ['a', 'b', 'c']), rows: [[1, 'a'], [2, 'b'], [3, 'c']] },
  {
    name: 'a good NDJSON object loads fully',
    key: 'good.ndjson',
    src: 'good_nd',
    body: '{"src":"good_nd","n":1,"amount":10,"note":"x"}\n{"src":"good_nd","n":2,"amount":20,"note":null}\n',
    rows: [[1, 'x'], [2, null]],
  },
  {
    name: 'a good Parquet object loads fully',
    key: 'good.parquet',
    src: 'good_pq',
    body: (app, bucket) => parquetBytes(app, 'mixed', bucket, parquetRows('good_pq', 3)),
    rows: [[1, 'p1'], [2, 'p2'], [3, 'p3']],
  },
  {
    name: 'malformed CSV: a quote never closed in a middle field quarantines its row, saying so',
    key: 'unclosed-quote.csv',
    src: 'uq',
    body: `${HEADER}uq,1,10,a\nuq,2,"20,b\nuq,3,30,c\n`,
    rows: [[1, 'a']],
    quarantined: [{ row: 2, columns: [], error: /^malformed row: .*a quote that is never closed/, raw: '' }],
  },
  {
    name: 'malformed CSV: a quote never closed in the last field fails the object alone, naming the row, instead of reading the rest into one value',
    key: 'unclosed-last-quote.csv',
    src: 'lq',
    body: `${HEADER}lq,1,10,a\nlq,2,20,"b\nlq,3,30,c\nlq,4,40,d\n`,
    rows: [],
    failure: /a quote opened in row 2 .*is never closed/,
  },
  {
    name: 'a quoted field that spans lines at the end of a CSV is a value, not an unclosed quote',
    key: 'multiline-last.csv',
    src: 'ml',
    body: `${HEADER}ml,1,10,a\nml,2,20,"two\nlines"\n`,
    rows: [[1, 'a'], [2, 'two\nlines']],
  },
  {
    name: 'malformed CSV: a stray quote inside an unquoted field is kept as text',
    key: 'stray-quote.csv',
    src: 'sq',
    body: csvRows('sq', ['a', 'ab"c', 'd']),
    rows: [[1, 'a'], [2, 'ab"c'], [3, 'd']],
  },
  {
    name: 'wrong field counts: rows with too few and too many fields are quarantined with their raw text',
    key: 'field-counts.csv',
    src: 'fc',
    body: `${HEADER}fc,1,10,a\nfc,2,20\nfc,3,30,c,extra\nfc,4,40,d\n`,
    rows: [[1, 'a'], [4, 'd']],
    quarantined: [
      { row: 2, columns: [], error: /^malformed row: .*less columns/, raw: 'fc,2,20' },
      { row: 3, columns: [], error: /^malformed row: /, raw: 'fc,3,30,c,extra' },
    ],
  },
  {
    name: 'invalid UTF-8 in a CSV field quarantines its row',
    key: 'invalid-utf8.csv',
    src: 'u8',
    body: Buffer.concat([Buffer.from(`${HEADER}u8,1,10,a\nu8,2,20,caf`), Buffer.from([0xe9, 0xff]), Buffer.from('\nu8,3,30,c\n')]),
    rows: [[1, 'a'], [3, 'c']],
    quarantined: [{ row: 2, columns: ['note'], error: /^note: value "caf\uFFFD+" is not valid UTF-8 text$/, raw: null }],
  },
  {
    name: 'invalid UTF-8 in an NDJSON line quarantines the line',
    key: 'invalid-utf8.ndjson',
    src: 'u8j',
    body: Buffer.concat([Buffer.from('{"src":"u8j","n":1,"amount":10,"note":"a"}\n{"src":"u8j","n":2,"amount":20,"note":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"src":"u8j","n":3,"amount":30,"note":"c"}\n')]),
    rows: [[1, 'a'], [3, 'c']],
    quarantined: [{ row: 2, columns: [], error: /not a JSON object/ }],
  },
  { name: 'a truncated .gz fails alone, naming the object', key: 'truncated.csv.gz', src: 'gz', body: Buffer.from(gzippedRows.subarray(0, Math.floor(gzippedRows.length / 2))), rows: [], failure: /cannot be read/ },
  {
    name: 'a truncated Parquet file fails alone, naming the object',
    key: 'truncated.parquet',
    src: 'tpq',
    body: async (app, bucket) => {
      const whole = await parquetBytes(app, 'mixed', bucket, parquetRows('tpq', 5000));
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    },
    rows: [],
    failure: /cannot be read: .*Parquet/,
  },
  { name: 'a non-Parquet file named .parquet fails alone, naming the object', key: 'not-parquet.parquet', src: 'npq', body: csvRows('npq', ['a']), rows: [], failure: /cannot be read: .*Not a Parquet file/ },
  { name: 'an empty .csv object imports as 0 rows', key: 'empty.csv', src: 'none', body: '', rows: [] },
  { name: 'an empty .ndjson object imports as 0 rows', key: 'empty.ndjson', src: 'none', body: '', rows: [] },
  { name: 'an empty .parquet object imports as 0 rows', key: 'empty.parquet', src: 'none', body: '', rows: [] },
  { name: 'a header-only CSV imports as 0 rows', key: 'header-only.csv', src: 'none', body: HEADER, rows: [] },
  {
    name: 'a 10 MB single line (an NDJSON object with no line end) loads whole',
    key: 'long-line.ndjson',
    src: 'long_nd',
    body: `{"src":"long_nd","n":1,"amount":10,"note":"${'x'.repeat(TEN_MB)}"}`,
    rows: [[1, 'x'.repeat(TEN_MB)]],
  },
  {
    name: 'a 10 MB CSV line loads whole, and the next row too',
    key: 'long-line.csv',
    src: 'long_csv',
    body: csvRows('long_csv', ['y'.repeat(TEN_MB), 'short']),
    rows: [[1, 'y'.repeat(TEN_MB)], [2, 'short']],
  },
  {
    name: 'a key with spaces, unicode and URL characters loads, and is named exactly',
    key: 'odd keys/ünï cödé 😀 #1 +%20?&=.csv',
    src: 'odd_key',
    body: csvRows('odd_key', ['a', 'b']),
    rows: [[1, 'a'], [2, 'b']],
  },
];

const NARROW_SCHEMA = [
  '    `src` String,',
  '    `n` UInt32,',
  '    `small` UInt8,',
  '    `price` Decimal(5, 2),',
  '    `day` Date,',
  "    `at` DateTime('UTC'),",
  "    `kind` Enum8('a' = 1, 'b' = 2),",
  '    `code` FixedString(2),',
  '    `id` UUID',
].join('\n');
const NARROW_GOOD = { small: 7, price: '999.99', day: '2024-02-29', at: '2024-02-29 23:59:59', kind: 'b', code: 'ab', id: '00000000-0000-0000-0000-000000000001' };
const NARROW_COLUMNS = ['small', 'price', 'day', 'at', 'kind', 'code', 'id'] as const;
/** One row each, in this order after the first good row: a value its column's type cannot hold. */
const NARROW_MISFITS: Array<{ column: (typeof NARROW_COLUMNS)[number]; type: string; value: string }> = [
  { column: 'small', type: 'UInt8', value: '300' },
  { column: 'small', type: 'UInt8', value: '-1' },
  { column: 'price', type: 'Decimal(5, 2)', value: '123456.78' },
  { column: 'day', type: 'Date', value: '2024-02-30' },
  { column: 'day', type: 'Date', value: '2200-01-01' },
  { column: 'at', type: "DateTime('UTC')", value: '2300-01-01 00:00:00' },
  { column: 'at', type: "DateTime('UTC')", value: '1960-01-01 00:00:00' },
  { column: 'kind', type: "Enum8('a' = 1, 'b' = 2)", value: 'c' },
  { column: 'code', type: 'FixedString(2)', value: 'abc' },
  { column: 'id', type: 'UUID', value: 'not-a-uuid' },
];

function narrowCsv(): string {
  const good = NARROW_COLUMNS.map((c) => NARROW_GOOD[c]);
  const lines = ['src,n,' + NARROW_COLUMNS.join(','), ['csv', 1, ...good].join(',')];
  NARROW_MISFITS.forEach((m, i) => lines.push(['csv', i + 2, ...NARROW_COLUMNS.map((c, j) => (c === m.column ? m.value : good[j]))].join(',')));
  lines.push(['csv', NARROW_MISFITS.length + 2, ...good].join(','));
  return lines.join('\n') + '\n';
}

/** Every name and value is a trap for SQL text written carelessly. */
const HOSTILE_NAMES = ['back`tick', 'say "hi"', "it's", 'semi;colon', 'dash--dash', 'new\nline', 'select', 'DROP TABLE victim', '{src_secret:String}', 'back\\slash', 'ünï 😀', 'amount`); DROP TABLE victim; --'];
const HOSTILE_VALUES = [
  "'); DROP TABLE victim; --",
  '"; DROP TABLE victim; --',
  '`; DROP TABLE victim; --',
  "x' OR '1'='1",
  '{src_secret:String}',
  'two\nlines',
  '\\N',
  'NULL',
  '$$; DROP TABLE victim; $$',
  'back\\slash \\n',
  'ünï 😀',
  '42',
];

/** The hostile names a SCHEMA block can declare (one line per column: no line break in a name), read from NDJSON keys of the same names. */
const DECLARABLE = HOSTILE_NAMES.filter((n) => !n.includes('\n'));
/** Declared Int64, so a value that is not a number is quarantined under this name. */
const NUMERIC_NAME = HOSTILE_NAMES[HOSTILE_NAMES.length - 1]!;
function hostileSchema(): string {
  return DECLARABLE.map((name) => `    \`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\` ${name === NUMERIC_NAME ? 'Int64' : 'String'}`).join(',\n');
}

/** The table's columns in order, without the hidden import tag. */
async function columnNames(app: App, table: string): Promise<string[]> {
  const rows = await query<{ name: string }>(app, `DESCRIBE TABLE ${table}`);
  return rows.map((r) => r.name).filter((n) => !n.startsWith('_bp_'));
}

async function tableNames(app: App): Promise<string[]> {
  const rows = await query<{ name: string }>(app, 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
  return rows.map((r) => r.name);
}

/** Rows of `select` as Parquet bytes, written by the engine that reads objects. */
async function parquetBytes(app: App, datasource: string, bucket: string, select: string): Promise<Uint8Array> {
  const key = `tmp/${Math.random().toString(36).slice(2)}.parquet`;
  await writeParquet(app, datasource, bucket, key, select);
  const s3 = s3Client(s3Endpoint());
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToByteArray();
}

/** Writes the rows of `select` as a Parquet object, with the engine that reads the datasource's objects. */
async function writeParquet(app: App, datasource: string, bucket: string, key: string, select: string): Promise<void> {
  await (await app.importContext(datasource)).engine.command({
    query: `INSERT INTO FUNCTION s3({url:String}, {k:String}, {s:String}, 'Parquet') ${select} SETTINGS s3_truncate_on_insert = 1`,
    query_params: { url: `${s3Endpoint()}/${bucket}/${key}`, k: S3_KEY, s: S3_SECRET },
  });
}
