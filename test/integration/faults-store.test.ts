import { describe, expect, it } from 'vitest';
import { startLocalClickHouse } from '../../scripts/local-clickhouse.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { putObjects } from '../helpers/bucket.js';
import { collect, runCli, spawnCli } from '../helpers/cli.js';
import { freshServerDatabase } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, useProcessTests } from '../helpers/scheduler-project.js';
import type { WorkerProcess } from '../helpers/worker.js';

const OBJECTS = 10;
const ROWS_PER_OBJECT = 20_000;
const TOTAL = OBJECTS * ROWS_PER_OBJECT;

/** Resolves with the first warning or error the worker logs after its line number `from`. */
function failureAfter(worker: WorkerProcess, from: number): Promise<string> {
  return worker.waitFor(/"level":(40|50)/, 120_000, from);
}

describe('the store unavailable in the middle of an import', () => {
  const t = useProcessTests();

  /** Objects whose rows name their key in `src`. */
  const seed = async (project: TestProjectDir, prefix: string, name: string) => {
    const keys = Array.from({ length: OBJECTS }, (_, i) => `${prefix}/obj-${i}.csv`);
    await putObjects(t.s3, t.bucket, Object.fromEntries(keys.map((key) => [key, srcCsv(key, ROWS_PER_OBJECT)])));
    project.writeDatasource(name, importDatasource(`s3://${t.bucket}/${prefix}/*.csv`, { schema: SRC_N_SCHEMA }));
    return keys.sort();
  };

  /** Every row once; each object `done` with the rows the table holds for it; nothing failed. */
  const expectEveryRowOnce = async (project: TestProjectDir, env: NodeJS.ProcessEnv, name: string, keys: string[]) => {
    const [table] = await sqlRows<{ rows: number; distinct: number }>(project, env, `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM ${name}`);
    // Servers quote 64-bit integers in JSON.
    expect({ rows: Number(table!.rows), distinct: Number(table!.distinct) }).toEqual({ rows: TOTAL, distinct: TOTAL });
    const perObject = await sqlRows<{ key: string; status: string; ledger_rows: number; table_rows: number }>(
      project,
      env,
      `SELECT l.key AS key, l.status AS status, l.rows AS ledger_rows, t.rows AS table_rows
       FROM (SELECT key, argMax(status, version) AS status, argMax(rows, version) AS rows FROM _bucketpipe_objects WHERE datasource = '${name}' GROUP BY key) AS l
       LEFT JOIN (SELECT src AS key, count() AS rows FROM ${name} GROUP BY src) AS t ON l.key = t.key
       ORDER BY key`,
    );
    expect(perObject.map((o) => ({ ...o, ledger_rows: Number(o.ledger_rows), table_rows: Number(o.table_rows) }))).toEqual(
      keys.map((key) => ({ key, status: 'done', ledger_rows: ROWS_PER_OBJECT, table_rows: ROWS_PER_OBJECT })),
    );
  };

  it('server store: ClickHouse killed twice mid-import (during a load, and between rows in and the ledger); the job retries and every row lands once', async () => {
    const clickhouse = await startLocalClickHouse();
    t.cleanups.push(() => clickhouse.stop());
    const { project, env } = t.newProject({ BUCKETPIPE_CLICKHOUSE_URL: await freshServerDatabase(clickhouse.url) });
    const keys = await seed(project, 'srv', 'outage');
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const worker = t.spawn(project.dir, env);
    await worker.waitFor('worker started');
    const sync = collect(spawnCli(['datasource', 'sync', 'outage', '--wait'], { cwd: project.dir, env }), 300_000);

    const outages = [
      { after: /"stage":"loading"/, nth: 2, delayMs: 40 }, // while the rows stream to the server
      { after: /"stage":"loaded"/, nth: 6, delayMs: 0 }, // rows in, the object not yet marked done
    ];
    const failures: string[] = [];
    for (const outage of outages) {
      await worker.waitForCount(outage.after, outage.nth);
      await new Promise((r) => setTimeout(r, outage.delayMs));
      const from = worker.lines.length;
      await clickhouse.kill();
      failures.push(await failureAfter(worker, from));
      await clickhouse.start();
    }
    const result = await sync;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    console.log(`server outages: the worker's first failure line each time: ${JSON.stringify(failures.map((l) => l.slice(0, 300)))}; failed job attempts: ${worker.lines.filter((l) => /"level":40.*"job":/.test(l)).length}`);
    await expectEveryRowOnce(project, env, 'outage', keys);
  }, 360_000);

  it('embedded store: the process that holds it is killed mid-import; the worker that used it takes it over and every row lands once', async () => {
    const { project, env } = t.newProject();
    const keys = await seed(project, 'emb', 'orphaned');
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    // The holder shares the data directory but serves another queue: it only holds the store.
    const holder = t.spawn(project.dir, { ...env, BUCKETPIPE_PROJECT_ID: `holder-${process.pid}` });
    await holder.waitFor('worker started');
    const worker = t.spawn(project.dir, env);
    await worker.waitFor('worker started');
    const sync = collect(spawnCli(['datasource', 'sync', 'orphaned', '--wait'], { cwd: project.dir, env }), 300_000);

    await worker.waitForCount(/"stage":"loading"/, 2);
    await new Promise((r) => setTimeout(r, 40));
    const from = worker.lines.length;
    await holder.stop('SIGKILL');
    const failure = await failureAfter(worker, from);
    const result = await sync;
    expect(result.code, result.stdout + result.stderr + worker.lines.join('\n')).toBe(0);
    console.log(`embedded holder killed: the worker's first failure line: ${failure.slice(0, 300)}`);
    await expectEveryRowOnce(project, env, 'orphaned', keys);
  }, 360_000);

  it('server store: connections to the server cut while rows stream in (after the server took them); the objects are retried, never marked failed, every row lands once', async () => {
    const server = new URL(await freshServerDatabase());
    // Only the inserts that ship an object's rows are cut: the server stores the rows, the worker sees a failure.
    const proxy = await startFaultProxy({
      target: `http://${server.host}`,
      rate: 0.3,
      seed: 5,
      kinds: ['reset', 'truncate'],
      appliesTo: (r) => /INSERT INTO .* FORMAT (Native|RowBinary|TabSeparated)/.test(decodeURIComponent(r.url.replace(/\+/g, ' '))),
    });
    t.cleanups.push(() => proxy.close());
    server.host = new URL(proxy.endpoint).host;
    // Batches of two objects: enough statements for the seeded faults to land on several of them.
    const { project, env } = t.newProject({ BUCKETPIPE_CLICKHOUSE_URL: server.toString(), BUCKETPIPE_IMPORT_BATCH_OBJECTS: '2' });
    const keys = await seed(project, 'cut', 'cut');
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const worker = t.spawn(project.dir, env);
    await worker.waitFor('worker started');
    const result = await runCli(['datasource', 'sync', 'cut', '--wait'], { cwd: project.dir, env, timeoutMs: 300_000 });
    const counts = proxy.counts();
    console.log(`connections to the server cut: ${JSON.stringify(counts)}`);
    expect(counts.faults.reset + counts.faults.truncate).toBeGreaterThan(0);
    expect(result.code, result.stdout + result.stderr + worker.lines.join('\n')).toBe(0);
    await expectEveryRowOnce(project, env, 'cut', keys);
  }, 360_000);
});
