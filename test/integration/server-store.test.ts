import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStore, type Store } from '../../src/store/create-store.js';
import { insertRows, runStatement, selectRows } from '../../src/store/queries.js';
import { identifierList, quoteIdentifier } from '../../src/store/sql.js';
import { runCli } from '../helpers/cli.js';
import { createProjectDir } from '../helpers/project.js';
import { freshServerDatabase } from '../helpers/embedded.js';

const HOSTILE = "it's \"quoted\" \\ back\\slash\nnew line\ttab ünï {x:String} --; DROP TABLE t; `tick`";
const HOSTILE_COLUMNS = ['order id', 'say "hi"', 'back`tick', 'semi;colon', 'dash--dash', 'select', 'naïve'];

/** The same checks on every store: the embedded engine and a real (old) ClickHouse server. */
describe.each([
  ['the embedded engine', () => ({ dataDir: mkdtempSync(join(tmpdir(), 'bucketpipe-conf-')) })],
  ['ClickHouse server 18.16', async () => ({ clickhouseUrl: await freshServerDatabase(), dataDir: mkdtempSync(join(tmpdir(), 'bucketpipe-conf-')) })],
] as const)('store conformance: %s', (_name, settings) => {
  let store: Store;
  let dataDir: string;
  beforeAll(async () => {
    const s = await settings();
    dataDir = s.dataDir;
    store = await createStore(s);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('binds values of every shape, hostile strings included, and reads them back unchanged', async () => {
    const rows = await selectRows<{ s: string; n: string | number; a: string[]; z: string | null }>(
      store.client,
      'SELECT {s:String} AS s, {n:Int64} AS n, {a:Array(String)} AS a, {z:Nullable(String)} AS z',
      { s: HOSTILE, n: -42, a: [HOSTILE, ''], z: null },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.s).toBe(HOSTILE);
    expect(Number(rows[0]!.n)).toBe(-42);
    expect(rows[0]!.a).toEqual([HOSTILE, '']);
    expect(rows[0]!.z).toBeNull();
  });

  it('quotes hostile column names in DDL, inserts and selects', async () => {
    const table = `conformance_${Date.now().toString(36)}`;
    await runStatement(store.client, `CREATE TABLE ${quoteIdentifier(table)} (${HOSTILE_COLUMNS.map((c) => `${quoteIdentifier(c)} String`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`);
    await insertRows(store.client, table, [Object.fromEntries(HOSTILE_COLUMNS.map((c) => [c, `${c}=${HOSTILE}`]))]);
    const back = await selectRows<Record<string, string>>(store.client, `SELECT ${identifierList(HOSTILE_COLUMNS)} FROM ${quoteIdentifier(table)} WHERE ${quoteIdentifier('select')} = {v:String}`, { v: `select=${HOSTILE}` });
    expect(back).toEqual([Object.fromEntries(HOSTILE_COLUMNS.map((c) => [c, `${c}=${HOSTILE}`]))]);
    await runStatement(store.client, `DROP TABLE ${quoteIdentifier(table)}`);
  });
});

describe('push against a server that lacks a type', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('names every column, its type and the server version, and creates nothing', async () => {
    const project = createProjectDir(inject('s3Endpoint'));
    const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-caps-'));
    cleanups.push(() => project.remove(), () => rmSync(dataDir, { recursive: true, force: true }));
    const table = `lacking_${Date.now().toString(36)}`;
    project.writeDatasource(
      table,
      ['SCHEMA >', '    `id` UInt64,', '    `at` DateTime64(3),', '    `ok` Bool,', '    `tags` Map(String, String),', '    `kind` LowCardinality(String),', '    `note` Nullable(String)', ''].join('\n'),
    );
    const env = { ...process.env, BUCKETPIPE_CLICKHOUSE_URL: await freshServerDatabase(), BUCKETPIPE_DATA_DIR: dataDir, REDIS_URL: inject('redisUrl') };
    const push = await runCli(['push'], { cwd: project.dir, env });
    expect(push.code).toBe(2);
    const lines = push.stderr.split('\n').filter((l) => l.startsWith(`datasources/${table}.datasource:`));
    expect(lines).toEqual([
      `datasources/${table}.datasource:3: column at: type DateTime64(3): DateTime64 is not available on ClickHouse 18.16.1; use DateTime (whole seconds).`,
      `datasources/${table}.datasource:4: column ok: type Bool: Bool is not available on ClickHouse 18.16.1; use UInt8.`,
      `datasources/${table}.datasource:5: column tags: type Map(String, String): Map is not available on ClickHouse 18.16.1; use String holding JSON, or Nested.`,
      `datasources/${table}.datasource:6: column kind: type LowCardinality(String): LowCardinality is not available on ClickHouse 18.16.1; use String, or set allow_experimental_low_cardinality_type = 1 in the server profile.`,
    ]);
    const tables = await runCli(['sql', `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND (name LIKE '${table}%' OR name LIKE '\\_bucketpipe%')`, '--format', 'TSV'], { cwd: project.dir, env });
    expect(tables.code, tables.stderr).toBe(0);
    expect(tables.stdout.trim()).toBe('0');
  });

  it('creates the data, quarantine and internal tables of a schema the server has, and a second push changes nothing', async () => {
    const project = createProjectDir(inject('s3Endpoint'));
    const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-caps-'));
    cleanups.push(() => project.remove(), () => rmSync(dataDir, { recursive: true, force: true }));
    const table = `fitting_${Date.now().toString(36)}`;
    project.writeDatasource(table, ['SCHEMA >', '    `id` UInt64,', "    `at` DateTime('UTC'),", '    `odd name`  Nullable(String),', '    `price` Decimal(10, 2)', '', 'ENGINE_SORTING_KEY "id"', ''].join('\n'));
    const env = { ...process.env, BUCKETPIPE_CLICKHOUSE_URL: await freshServerDatabase(), BUCKETPIPE_DATA_DIR: dataDir, REDIS_URL: inject('redisUrl') };
    const push = await runCli(['push'], { cwd: project.dir, env });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain(`create tables ${table} and ${table}_quarantine (4 columns)`);
    const again = await runCli(['push'], { cwd: project.dir, env });
    expect(again.stdout).toContain(`${table}: no changes`);
    const columns = await runCli(['sql', `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${table}'`, '--format', 'JSONEachRow'], { cwd: project.dir, env });
    expect(columns.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { name: 'id', type: 'UInt64' },
      { name: 'at', type: "DateTime('UTC')" },
      { name: 'odd name', type: 'Nullable(String)' },
      { name: 'price', type: 'Decimal(10, 2)' },
      { name: '_bp_import_id', type: 'String' },
    ]);
    const internal = await runCli(['sql', "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '\\_bucketpipe%' ORDER BY name", '--format', 'TSV'], { cwd: project.dir, env });
    expect(internal.stdout.trim().split('\n')).toEqual(['_bucketpipe_datasources', '_bucketpipe_events', '_bucketpipe_export_files', '_bucketpipe_exports', '_bucketpipe_jobs', '_bucketpipe_leases', '_bucketpipe_ledger', '_bucketpipe_objects', '_bucketpipe_revisions']);
    const jobs = await runCli(['jobs'], { cwd: project.dir, env });
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.stdout).toContain('No jobs yet.');
  });
});

describe('what the server makes of BUCKETPIPE_CLICKHOUSE_URL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-refused-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('names a database that does not exist and says to create it', async () => {
    const url = new URL(inject('clickhouseUrl'));
    url.pathname = '/no_such_db_here';
    await expect(createStore({ clickhouseUrl: url.toString(), dataDir })).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/The database no_such_db_here of BUCKETPIPE_CLICKHOUSE_URL does not exist on the store at http:\/\/127\.0\.0\.1:\d+\/no_such_db_here: create it first \(CREATE DATABASE no_such_db_here; on a cluster, CREATE DATABASE no_such_db_here ON CLUSTER <name>\)/),
    });
  });

  it('reads a URL whose path ends in a slash as naming the same database', async () => {
    const url = new URL(await freshServerDatabase());
    const database = url.pathname.slice(1);
    url.pathname = `/${database}/`;
    const store = await createStore({ clickhouseUrl: url.toString(), dataDir });
    try {
      expect(await selectRows(store.client, 'SELECT currentDatabase() AS db')).toEqual([{ db: database }]);
      expect(store.engineAccess?.database).toBe(database);
    } finally {
      await store.close();
    }
  });

  it('says the user or password was refused, and prints no password', async () => {
    const url = new URL(inject('clickhouseUrl'));
    url.password = 'hunter2SECRET';
    const refused = await createStore({ clickhouseUrl: url.toString(), dataDir }).then(
      () => undefined,
      (error: Error & { code?: string }) => error,
    );
    expect(refused?.code).toBe('STORE_ERROR');
    expect(refused?.message).toMatch(/^The store at http:\/\/127\.0\.0\.1:\d+\/default refused the user and password of BUCKETPIPE_CLICKHOUSE_URL: /);
    expect(refused?.message).not.toContain('hunter2SECRET');
  });
});
