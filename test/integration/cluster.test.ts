import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { importHere, exportHere } from '../../src/worker/run-here.js';
import { REPLICATED_CLUSTER, SHARDED_CLUSTER, startLocalCluster, type LocalCluster } from '../../scripts/local-cluster.js';
import { putObjects, readText } from '../helpers/bucket.js';
import { importRecording } from '../helpers/import-recording.js';
import { runCli } from '../helpers/cli.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';
import { srcCsv, SRC_N_SCHEMA, until, useProcessTests } from '../helpers/scheduler-project.js';

/**
 * bucketpipe on a real replicated cluster: ZooKeeper and two ClickHouse 18.16 nodes on loopback,
 * which form both a cluster of one shard with two replicas and a cluster of two shards. Every claim
 * is read back from each node.
 */
describe('a replicated ClickHouse cluster', () => {
  const tests = useProcessTests();
  let cluster: LocalCluster;
  const apps: App[] = [];
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    cluster = await startLocalCluster();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await cluster?.stop();
  });

  /** A database of its own on every node; the store URL of each node. */
  async function clusterDatabase(clusterName: string): Promise<string[]> {
    const database = `bp_cluster_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    await onNode(cluster.nodes[0]!.url, `CREATE DATABASE ${database} ON CLUSTER ${clusterName}`);
    return cluster.nodes.map((node) => node.url.replace(/\/default$/, `/${database}`));
  }

  function project(datasource: string, text: string): TestProjectDir {
    const dir = createProjectDir(inject('s3Endpoint'));
    cleanups.push(() => dir.remove());
    dir.writeDatasource(datasource, text);
    return dir;
  }

  function clusterEnv(urls: string | readonly string[], clusterName: string): NodeJS.ProcessEnv {
    const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-cluster-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    return {
      ...process.env,
      S3_ACCESS_KEY: S3_KEY,
      S3_SECRET,
      REDIS_URL: inject('redisUrl'),
      BUCKETPIPE_DATA_DIR: dataDir,
      BUCKETPIPE_CLICKHOUSE_URL: typeof urls === 'string' ? urls : urls.join(','),
      BUCKETPIPE_CLICKHOUSE_CLUSTER: clusterName,
      BUCKETPIPE_AUTO_INTERVAL_MS: '1500',
    };
  }

  async function open(dir: TestProjectDir, env: NodeJS.ProcessEnv): Promise<App> {
    const app = await openApp({ projectDir: dir.dir, env });
    apps.push(app);
    return app;
  }

  /** Every row once on this node: count, distinct rows, and the ledger's objects done. */
  async function holdings(url: string, table: string, datasource = table): Promise<{ rows: number; distinct: number; done: number }> {
    const [data] = await rowsOn<{ rows: string; distinct: string }>(url, `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM ${table}`);
    const [ledger] = await rowsOn<{ done: string }>(url, `SELECT count() AS done FROM _bucketpipe_objects WHERE datasource = '${datasource}' AND status = 'done'`);
    return { rows: Number(data!.rows), distinct: Number(data!.distinct), done: Number(ledger!.done) };
  }

  /** Waits until no mutation (an undo) is left to run on any node. */
  async function mutationsDone(urls: readonly string[]): Promise<void> {
    for (const url of urls) {
      await until(() => rowsOn<{ n: string }>(url, 'SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND is_done = 0'), (r) => Number(r[0]?.n) === 0);
    }
  }

  /** As a SIGKILLed worker leaves it: the datasource's attempts `loading` again, their rows in. */
  async function leaveLoading(url: string, datasource: string): Promise<void> {
    await onNode(
      url,
      `INSERT INTO _bucketpipe_ledger SELECT datasource, key, etag, bucket, size, last_modified, import_id, job_id, 'loading', rows, quarantined, error, updated_at, version + 1
       FROM _bucketpipe_ledger WHERE datasource = '${datasource}'`,
    );
  }

  it('makes every table replicated to every node of a one-shard cluster, and two workers on different nodes load 40 objects once', async () => {
    const objects = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`fleet/o${String(i).padStart(2, '0')}.csv`, srcCsv(`o${i}`, 50)]));
    await putObjects(tests.s3, tests.bucket, objects);
    const dir = project('fleet', importDatasource(`s3://${tests.bucket}/fleet/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto' }));
    const urls = await clusterDatabase(REPLICATED_CLUSTER);
    const envs = urls.map((url) => clusterEnv(url, REPLICATED_CLUSTER));
    const pushed = await runCli(['push'], { cwd: dir.dir, env: envs[0]! });
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const url of urls) {
      const engines = await rowsOn<{ name: string; engine_full: string }>(url, 'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() ORDER BY name');
      const database = new URL(url).pathname.slice(1);
      const byName = new Map(engines.map((t) => [t.name, t.engine_full]));
      expect(byName.get('fleet')).toMatch(new RegExp(`^ReplicatedMergeTree\\('/clickhouse/bucketpipe/${database}/fleet', '\\{replica\\}'\\)`));
      expect(byName.get('fleet_quarantine')).toMatch(/^ReplicatedMergeTree\(/);
      for (const internal of ['_bucketpipe_ledger', '_bucketpipe_jobs', '_bucketpipe_events', '_bucketpipe_exports', '_bucketpipe_export_files', '_bucketpipe_datasources', '_bucketpipe_leases', '_bucketpipe_revisions']) {
        expect(byName.get(internal), internal).toMatch(new RegExp(`^Replicated\\w*MergeTree\\('/clickhouse/bucketpipe/${database}/${internal}'`));
      }
    }

    // The first worker loads through node 1 alone for a while; then both run; then the first is
    // killed, and the second finishes through node 2, from the ledger node 1's writes replicated.
    const first = tests.spawn(dir.dir, envs[0]!);
    await until(() => holdings(urls[0]!, 'fleet'), (h) => h.done >= 10, 110_000);
    const second = tests.spawn(dir.dir, envs[1]!);
    await second.waitFor('worker started');
    const before = (await holdings(urls[1]!, 'fleet')).done;
    await until(() => holdings(urls[1]!, 'fleet'), (h) => h.done >= before + 5, 110_000);
    await first.stop('SIGKILL');
    for (const url of urls) await until(() => holdings(url, 'fleet'), (h) => h.done === 40, 110_000);
    await second.waitFor(/"datasource":"fleet".*import finished/);
    await mutationsDone(urls);
    for (const url of urls) expect(await holdings(url, 'fleet')).toEqual({ rows: 2000, distinct: 2000, done: 40 });
  });

  it('undoes an interrupted import on one node and loads it again on the other: every row once on both replicas', async () => {
    await putObjects(tests.s3, tests.bucket, { 'reload/r.csv': srcCsv('r', 1000) });
    const dir = project('reload', importDatasource(`s3://${tests.bucket}/reload/*.csv`, { schema: SRC_N_SCHEMA }));
    const urls = await clusterDatabase(REPLICATED_CLUSTER);
    const first = await open(dir, clusterEnv(urls[0]!, REPLICATED_CLUSTER));
    await pushProject(first, { dryRun: false });
    expect((await importHere(first, 'reload', { trigger: 'on-demand' })).rows).toBe(1000);
    await until(() => holdings(urls[1]!, 'reload'), (h) => h.rows === 1000);
    await leaveLoading(urls[0]!, 'reload');

    const second = await open(dir, clusterEnv(urls[1]!, REPLICATED_CLUSTER));
    await until(() => rowsOn<{ s: string }>(urls[1]!, "SELECT status AS s FROM _bucketpipe_objects WHERE datasource = 'reload'"), (r) => r[0]?.s === 'loading');
    const again = await importHere(second, 'reload', { trigger: 'on-demand' });
    expect({ recovered: again.recovered, rows: again.rows }).toEqual({ recovered: 1, rows: 1000 });
    await mutationsDone(urls);
    // The same rows, in the same blocks, inserted again: a replicated table would drop them as duplicates.
    for (const url of urls) await until(() => holdings(url, 'reload'), (h) => h.rows === 1000 && h.distinct === 1000 && h.done === 1);
  });

  it("waits for a node's lagging copy of the ledger, and undoes a second load made while it could not", async () => {
    await putObjects(tests.s3, tests.bucket, { 'lag/a.csv': srcCsv('a', 500) });
    const dir = project('lag', importDatasource(`s3://${tests.bucket}/lag/*.csv`, { schema: SRC_N_SCHEMA }));
    const urls = await clusterDatabase(REPLICATED_CLUSTER);
    const first = await open(dir, clusterEnv(urls[0]!, REPLICATED_CLUSTER));
    await pushProject(first, { dryRun: false });
    const patient = await open(dir, { ...clusterEnv(urls[1]!, REPLICATED_CLUSTER), BUCKETPIPE_REPLICA_CATCH_UP_MS: '90000' });
    const hasty = await open(dir, { ...clusterEnv(urls[1]!, REPLICATED_CLUSTER), BUCKETPIPE_REPLICA_CATCH_UP_MS: '200' });
    const doneOn = (url: string) => rowsOn<{ n: string }>(url, "SELECT count() AS n FROM _bucketpipe_ledger WHERE datasource = 'lag' AND status = 'done'");

    // Node 2 lags: the run through it waits for the commit node 1 made, and loads nothing again.
    await onNode(urls[1]!, 'SYSTEM STOP REPLICATION QUEUES _bucketpipe_ledger');
    expect((await importHere(first, 'lag', { trigger: 'on-demand' })).rows).toBe(500);
    let behind: () => void = () => {};
    const foundBehind = new Promise<void>((resolve) => (behind = resolve));
    const waiting = importRecording(patient, 'lag', undefined, (record) => record.stage === 'ledger_catch_up' && behind());
    // The copy catches up only once the run is seen waiting for it; a run that never waits fails here.
    const seen = await Promise.race([foundBehind.then(() => 'waited' as const), waiting.then(() => 'finished without waiting' as const)]);
    expect(seen).toBe('waited');
    await onNode(urls[1]!, 'SYSTEM START REPLICATION QUEUES _bucketpipe_ledger');
    const waited = (await waiting).report;
    expect({ status: waited.status, rows: waited.rows }).toEqual({ status: 'ok', rows: 0 });
    for (const url of urls) await until(() => holdings(url, 'lag'), (h) => h.rows === 500 && h.distinct === 500 && h.done === 1);

    // Node 2 lags past the run's patience: the run loads the object a second time, and the next run
    // through any node, once the copies agree, undoes the second load.
    await putObjects(tests.s3, tests.bucket, { 'lag/b.csv': srcCsv('b', 300) });
    await onNode(urls[1]!, 'SYSTEM STOP REPLICATION QUEUES _bucketpipe_ledger');
    expect((await importHere(first, 'lag', { trigger: 'on-demand' })).rows).toBe(300);
    const twice = await importHere(hasty, 'lag', { trigger: 'on-demand' });
    expect(twice.rows).toBe(300);
    await onNode(urls[1]!, 'SYSTEM START REPLICATION QUEUES _bucketpipe_ledger');
    for (const url of urls) await until(() => doneOn(url), (r) => Number(r[0]!.n) === 3);
    const repaired = await importHere(first, 'lag', { trigger: 'on-demand' });
    expect({ recovered: repaired.recovered, rows: repaired.rows }).toEqual({ recovered: 1, rows: 0 });
    await mutationsDone(urls);
    for (const url of urls) await until(() => holdings(url, 'lag'), (h) => h.rows === 800 && h.distinct === 800 && h.done === 2);
  });

  it('adds a new column on every node, quarantines on a cluster and exports from it', async () => {
    await putObjects(tests.s3, tests.bucket, { 'evolve/a.csv': 'src,n\na,1\na,oops\na,3\n' });
    const exportLines = ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${tests.bucket}/out/evolve/`, 'EXPORT_FORMAT csv', 'EXPORT_STRATEGY full'].join('\n');
    const dir = project('evolve', importDatasource(`s3://${tests.bucket}/evolve/*.csv`, { schema: SRC_N_SCHEMA }) + exportLines + '\n');
    const urls = await clusterDatabase(REPLICATED_CLUSTER);
    const app = await open(dir, clusterEnv(urls, REPLICATED_CLUSTER));
    await pushProject(app, { dryRun: false });
    const first = await importHere(app, 'evolve', { trigger: 'on-demand' });
    expect({ rows: first.rows, quarantined: first.quarantined }).toEqual({ rows: 2, quarantined: 1 });

    dir.writeDatasource('evolve', importDatasource(`s3://${tests.bucket}/evolve/*.csv`, { schema: `${SRC_N_SCHEMA},\n    \`extra\` String` }) + exportLines + '\n');
    const evolved = await open(dir, clusterEnv(urls, REPLICATED_CLUSTER));
    await pushProject(evolved, { dryRun: false });
    await putObjects(tests.s3, tests.bucket, { 'evolve/b.csv': 'src,n,extra\nb,4,x\nb,five,y\n' });
    const second = await importHere(evolved, 'evolve', { trigger: 'on-demand' });
    expect({ rows: second.rows, quarantined: second.quarantined }).toEqual({ rows: 1, quarantined: 1 });

    for (const url of urls) {
      const columns = await rowsOn<{ table: string; name: string }>(url, "SELECT table, name FROM system.columns WHERE database = currentDatabase() AND table IN ('evolve', 'evolve_quarantine') AND name = 'extra'");
      expect(columns.map((c) => c.table).sort()).toEqual(['evolve', 'evolve_quarantine']);
      await until(() => rowsOn<{ n: string }>(url, 'SELECT count() AS n FROM evolve'), (r) => Number(r[0]!.n) === 3);
      const quarantined = await until(
        () => rowsOn<{ n: string; c__error: string[] }>(url, 'SELECT n, c__error FROM evolve_quarantine ORDER BY n'),
        (r) => r.length === 2,
      );
      expect(quarantined.map((q) => q.n)).toEqual(['five', 'oops']);
      expect(quarantined.every((q) => q.c__error.length > 0)).toBe(true);
    }

    const exported = await exportHere(evolved, 'evolve', { trigger: 'on-demand' });
    expect({ status: exported.status, rows: exported.rows, files: exported.files.length }).toEqual({ status: 'ok', rows: 3, files: 1 });
    const key = exported.files[0]!.uri.replace(`s3://${tests.bucket}/`, '');
    const lines = (await readText(tests.s3, tests.bucket, key)).trim().split('\n');
    expect(lines.slice(1).sort()).toEqual(['"a",1,""', '"a",3,""', '"b",4,"x"']);
  });

  it('spreads rows over the shards of a two-shard cluster behind a Distributed table, and undoes an import on every shard', async () => {
    const objects = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`wide/w${i}.csv`, srcCsv(`w${i}`, 100)]));
    await putObjects(tests.s3, tests.bucket, { ...objects, 'wide/bad.csv': 'src,n\nbad,1\nbad,nope\n' });
    const exportLines = ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI s3://${tests.bucket}/out/wide/`, 'EXPORT_FORMAT jsonl', 'EXPORT_STRATEGY new'].join('\n');
    const dir = project('wide', importDatasource(`s3://${tests.bucket}/wide/*.csv`, { schema: SRC_N_SCHEMA, more: `IMPORT_MAX_FILES_PER_RUN 20\nENGINE_SHARDING_KEY cityHash64(src, n)\n${exportLines}` }));
    const urls = await clusterDatabase(SHARDED_CLUSTER);
    const app = await open(dir, clusterEnv(urls[1]!, SHARDED_CLUSTER));
    await pushProject(app, { dryRun: false });
    // Node 1's copy of the ledger lags behind: the import and the export run through node 2.
    await onNode(urls[0]!, 'SYSTEM STOP REPLICATION QUEUES _bucketpipe_ledger');
    const first = await importHere(app, 'wide', { trigger: 'on-demand' });
    expect({ rows: first.rows, quarantined: first.quarantined }).toEqual({ rows: 1001, quarantined: 1 });
    const exported = await exportHere(app, 'wide', { trigger: 'on-demand' });
    expect({ status: exported.status, rows: exported.rows }).toEqual({ status: 'ok', rows: 1001 });
    const lines = (await Promise.all(exported.files.map((f) => readText(tests.s3, tests.bucket, f.uri.replace(`s3://${tests.bucket}/`, ''))))).join('').trim().split('\n');
    expect(new Set(lines).size).toBe(1001);
    await onNode(urls[0]!, 'SYSTEM START REPLICATION QUEUES _bucketpipe_ledger');

    const database = new URL(urls[0]!).pathname.slice(1);
    const locals: number[] = [];
    for (const url of urls) {
      const [engine] = await rowsOn<{ engine_full: string }>(url, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'wide'");
      expect(engine!.engine_full).toBe(`Distributed(sharded, ${database}, wide_local, cityHash64(src, n))`);
      await until(() => holdings(url, 'wide'), (h) => h.done === 11);
      expect(await holdings(url, 'wide')).toEqual({ rows: 1001, distinct: 1001, done: 11 });
      locals.push(Number((await rowsOn<{ n: string }>(url, 'SELECT count() AS n FROM wide_local'))[0]!.n));
      // The quarantine is on every node whole.
      expect((await rowsOn<{ n: string }>(url, 'SELECT n FROM wide_quarantine')).map((r) => r.n)).toEqual(['nope']);
    }
    expect(locals.every((n) => n > 0)).toBe(true);
    expect(locals[0]! + locals[1]!).toBe(1001);

    await leaveLoading(urls[0]!, 'wide');
    const again = await importHere(app, 'wide', { trigger: 'on-demand' });
    // The eleven objects were one attempt (small objects load in batches).
    expect({ recovered: again.recovered, rows: again.rows }).toEqual({ recovered: 11, rows: 1001 });
    await mutationsDone(urls);
    for (const url of urls) expect(await holdings(url, 'wide')).toEqual({ rows: 1001, distinct: 1001, done: 11 });
    expect((await rowsOn<{ n: string }>(urls[0]!, 'SELECT count() AS n FROM wide_quarantine'))[0]!.n).toBe('1');
  });

  it('continues on the other node when a node is killed mid-import, and the restarted node ends with every row once', async () => {
    const objects = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`kill/k${String(i).padStart(2, '0')}.csv`, srcCsv(`k${i}`, 20_000)]));
    await putObjects(tests.s3, tests.bucket, objects);
    const dir = project('killed', importDatasource(`s3://${tests.bucket}/kill/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto', more: 'IMPORT_MAX_FILES_PER_RUN 3' }));
    const urls = await clusterDatabase(REPLICATED_CLUSTER);
    // While the node is down, the parts only it holds keep the other's copy of the ledger behind: runs
    // wait this long for it, then go on.
    const env = { ...clusterEnv(urls, REPLICATED_CLUSTER), BUCKETPIPE_REPLICA_CATCH_UP_MS: '2000' };
    const pushed = await runCli(['push'], { cwd: dir.dir, env });
    expect(pushed.code, pushed.stderr).toBe(0);

    const worker = tests.spawn(dir.dir, env);
    // An object of the first run is done: the node goes away in the middle of the objects.
    await worker.waitFor(/"datasource":"killed".*"stage":"loading"/, 90_000);
    await cluster.nodes[0]!.kill();
    await until(() => holdings(urls[1]!, 'killed'), (h) => h.done === 12, 110_000);
    // A new process finds the first node gone and works on the second (a statement ON CLUSTER would
    // wait for the dead node: none is run where the node has its tables).
    const status = await runCli(['status', '--json'], { cwd: dir.dir, env, timeoutMs: 60_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('killed');

    await cluster.nodes[0]!.start();
    // The restarted replica catches up once its old ZooKeeper session has expired; the worker's next
    // runs undo any attempt whose rows only the killed node held.
    for (const url of urls) {
      await until(() => holdings(url, 'killed').catch(() => undefined), (h) => h?.rows === 240_000 && h.distinct === 240_000 && h.done === 12, 110_000);
    }
    await mutationsDone(urls);
    for (const url of urls) expect(await holdings(url, 'killed')).toEqual({ rows: 240_000, distinct: 240_000, done: 12 });
  });
});

/** Runs a statement on one node, over HTTP. */
async function onNode(url: string, statement: string): Promise<string> {
  const { origin, pathname } = new URL(url);
  const database = pathname.slice(1) || 'default';
  const response = await fetch(`${origin}/?database=${encodeURIComponent(database)}`, { method: 'POST', body: statement });
  const text = await response.text();
  if (!response.ok) throw new Error(`${statement.slice(0, 80)}: ${text}`);
  return text;
}

/** The rows of a query on one node. */
async function rowsOn<T>(url: string, query: string): Promise<T[]> {
  const text = await onNode(url, `${query} FORMAT JSONEachRow`);
  return text.trim() === '' ? [] : text.trim().split('\n').map((line) => JSON.parse(line) as T);
}
