import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { openApp, type App } from '../../../src/app.js';
import { enqueueRun, openRunQueue } from '../../../src/queue/job-queue.js';
import { queuePrefix } from '../../../src/queue/queue-names.js';
import { importHere } from '../../../src/worker/run-here.js';
import { startLocalRedis } from '../../../scripts/local-redis.js';
import { keysUnder, putObjects, readText } from '../../helpers/bucket.js';
import { runCli } from '../../helpers/cli.js';
import { freshServerDatabase } from '../../helpers/embedded.js';
import { importDatasource, localConnection, type TestProjectDir } from '../../helpers/project.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { selectRows } from '../../../src/store/queries.js';
import { srcCsv, SRC_N_SCHEMA, until, useProcessTests } from '../../helpers/scheduler-project.js';
import type { WorkerProcess } from '../../helpers/worker.js';

const ROUNDS = 20;
const ROWS = 50_000;
const OBJECTS_PER_ROUND = 1;
const LEASE_TTL_MS = 1500;

/**
 * Several workers on one store (the embedded engine, or with `server` the test ClickHouse server):
 * runs that lose their lease stop writing, and every row lands once whatever the fleet does.
 */
export function defineFleetSuite(store: string, server: boolean): void {
  describe(`many workers, one truth (${store})`, () => {
    const t = useProcessTests();
    // One store for the suite (the engine takes one data directory per process); each test has its
    // own project folder and datasource names. The embedded store is served by this process, so
    // that stopping a worker never stops the store.
    const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-fleet-'));
    let storeEnv: Record<string, string> = {};
    let host: App;
    // The engine's reads of `slow/` objects stall for a while, so that a worker is stopped in the
    // middle of its load and not after it.
    let proxy: FaultProxy;
    beforeAll(async () => {
      storeEnv = server ? { BUCKETPIPE_CLICKHOUSE_URL: await freshServerDatabase() } : {};
      const { project, env } = t.newProject({ BUCKETPIPE_DATA_DIR: dataDir, ...storeEnv });
      host = await openApp({ projectDir: project.dir, env, role: 'worker' });
      await host.store();
      proxy = await startFaultProxy({
        target: inject('s3Endpoint'),
        rate: 1,
        seed: 14,
        kinds: ['stall'],
        stallMs: 800,
        appliesTo: (r) => r.method === 'GET' && r.url.includes('/slow/') && !/aws-sdk-js/.test(String(r.headers['user-agent'])),
      });
    });
    afterAll(async () => {
      await host?.close();
      await proxy?.close();
      // The embedded engine may still be writing its last files as it closes (a full run once failed
      // here with ENOTEMPTY): the removal is tried again while the folder fills.
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 10 });
    });

    /** A project on this suite's store, reading the bucket through the proxy. */
    async function fleetProject(extraEnv: Record<string, string> = {}): Promise<{ project: TestProjectDir; env: NodeJS.ProcessEnv }> {
      const made = t.newProject({ BUCKETPIPE_DATA_DIR: dataDir, BUCKETPIPE_LEASE_TTL_MS: String(LEASE_TTL_MS), BUCKETPIPE_IMPORT_BATCH_OBJECTS: '1', ...storeEnv, ...extraEnv });
      made.project.writeConnection('local', localConnection(proxy.endpoint));
      return made;
    }

    /** Rows of a query on the suite's store, from this process. */
    async function rows<T>(query: string): Promise<T[]> {
      return selectRows<T>((await host.store()).client, query);
    }

    /** Queues an on-demand sync as `datasource sync NAME` does, from this process. */
    async function queued(project: TestProjectDir, env: NodeJS.ProcessEnv, datasource: string): Promise<string> {
      const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
      const queue = openRunQueue(connection, queuePrefix(project.dir, env));
      try {
        return await enqueueRun(queue, { datasource, trigger: 'on-demand' });
      } finally {
        await queue.close();
        connection.disconnect();
      }
    }

    /** Waits until no mutation is left to run (a server before 19.11 undoes asynchronously). */
    async function settled(): Promise<void> {
      await until(() => rows<{ n: string }>('SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND is_done = 0'), (r) => Number(r[0]?.n) === 0);
    }

    /**
     * Every row once, no row without its import's tag, and the ledger's count of each object is the
     * table's. Objects are named for their rows' `src`.
     */
    async function expectEveryRowOnce(table: string, objects: number, perObject: number): Promise<void> {
      await settled();
      const [count] = await rows<{ rows: string; distinct: string; untagged: string }>(
        `SELECT count() AS rows, uniqExact(src, n) AS distinct, countIf(_bp_import_id = '') AS untagged FROM ${table}`,
      );
      expect({ rows: Number(count!.rows), distinct: Number(count!.distinct), untagged: Number(count!.untagged) }).toEqual({ rows: objects * perObject, distinct: objects * perObject, untagged: 0 });
      const ledger = await rows<{ key: string; status: string; rows: string }>(`SELECT key, status, rows FROM _bucketpipe_objects WHERE datasource = '${table}' ORDER BY key`);
      const counted = await rows<{ src: string; n: string }>(`SELECT src, count() AS n FROM ${table} GROUP BY src ORDER BY src`);
      const bySrc = new Map(counted.map((r) => [r.src, Number(r.n)]));
      expect(ledger).toHaveLength(objects);
      for (const entry of ledger) {
        const src = /([^/]+)\.csv$/.exec(entry.key)![1]!;
        expect({ key: entry.key, status: entry.status, rows: Number(entry.rows) }).toEqual({ key: entry.key, status: 'done', rows: bySrc.get(src) });
      }
    }

    it(`${ROUNDS} rounds: a worker stopped mid-load past its lease is fenced out, the worker that took over is the only one whose rows stay`, async () => {
      const { project, env } = await fleetProject();
      project.writeDatasource('taken', importDatasource(`s3://${t.bucket}/slow/taken/*.csv`, { schema: SRC_N_SCHEMA }));
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      const workers = [t.spawn(project.dir, env), t.spawn(project.dir, env)];
      for (const w of workers) await w.waitFor('worker started');
      let fenced = 0;
      const started = Date.now();
      for (let round = 0; round < ROUNDS; round++) {
        await putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: OBJECTS_PER_ROUND }, (_, i) => [`slow/taken/r${String(round).padStart(2, '0')}-${i}.csv`, srcCsv(`r${String(round).padStart(2, '0')}-${i}`, ROWS)])));
        await queued(project, env, 'taken');
        // Whichever run loads this round's objects first (a new job, or the retry of a fenced one).
        const loading = new RegExp(`"stage":"loading".*slow/taken/r${String(round).padStart(2, '0')}-`);
        const stopped = await Promise.race(workers.map((w) => w.waitFor(loading, 90_000).then(() => w)));
        const other = workers.find((w) => w !== stopped)!;
        stopped.child.kill('SIGSTOP');
        const mark = stopped.lines.findIndex((l) => loading.test(l));
        // The other worker waits for the lease, takes it once it lapses, undoes what the stopped one left and imports the rest.
        const second = await queued(project, env, 'taken');
        await other.waitFor(new RegExp(`"job":"${second}".*import finished`), 90_000);
        stopped.child.kill('SIGCONT');
        // The stopped run ends: fenced out (its lease lapsed while it was stopped), or finished before the stop landed.
        await stopped.waitFor('import finished', 90_000, mark);
        if (stopped.lines.slice(mark).some((l) => l.includes('lost the lease of a run'))) fenced++;
        await expectEveryRowOnce('taken', (round + 1) * OBJECTS_PER_ROUND, ROWS);
      }
      // Most rounds stop the worker while its run holds the lease (a run may finish before the stop lands).
      expect(fenced).toBeGreaterThanOrEqual(ROUNDS / 2);
      const undone = await rows<{ n: string }>("SELECT count() AS n FROM _bucketpipe_events WHERE datasource = 'taken' AND event = 'import_undone'");
      expect(Number(undone[0]!.n)).toBeGreaterThanOrEqual(1);
      console.log(`${ROUNDS} rounds in ${Date.now() - started} ms; the stopped worker was fenced out in ${fenced}; interrupted imports undone: ${undone[0]!.n}`);
    }, 900_000);

    it('Redis restarted empty mid-run: both runs stop within a lease period, and after it every row lands once', async () => {
      const redis = await startLocalRedis();
      t.cleanups.push(() => redis.stop());
      // Renewals every 2 s: the bound below holds on a busy machine too.
      const ttl = 6000;
      const { project, env } = await fleetProject({ REDIS_URL: redis.url, BUCKETPIPE_LEASE_TTL_MS: String(ttl) });
      for (const ds of ['left', 'right']) {
        await putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`slow/wiped/${ds}/${ds}-${i}.csv`, srcCsv(`${ds}-${i}`, ROWS)])));
        project.writeDatasource(ds, importDatasource(`s3://${t.bucket}/slow/wiped/${ds}/*.csv`, { schema: SRC_N_SCHEMA }));
      }
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      const workers = [t.spawn(project.dir, env), t.spawn(project.dir, env)];
      for (const w of workers) await w.waitFor('worker started');
      await queued(project, env, 'left');
      await queued(project, env, 'right');
      for (const w of workers) await w.waitFor('"stage":"loading"', 90_000);

      const [before] = await rows<{ v: string }>("SELECT max(version) AS v FROM _bucketpipe_jobs WHERE datasource IN ('left', 'right')");
      const restartedAt = Date.now();
      await redis.restart();
      // Found by a renewal (every third of the lease) or by the check before a commit, whichever comes first.
      const lost = await Promise.all(workers.map((w) => w.waitFor('lost the lease of a run', 30_000)));
      for (const line of lost) {
        const entry = JSON.parse(line) as { time: number; reason: string };
        expect(entry.reason).toMatch(/^(renewal|check) failed: /);
        expect(entry.time).toBeGreaterThanOrEqual(restartedAt);
        expect(entry.time - restartedAt).toBeLessThan(ttl);
      }
      // The on-demand jobs went with Redis's data: ask again, and every object lands once.
      for (const ds of ['left', 'right']) {
        const sync = await runCli(['datasource', 'sync', ds, '--wait', '--json'], { cwd: project.dir, env, timeoutMs: 180_000 });
        expect(sync.code, sync.stderr).toBe(0);
        await expectEveryRowOnce(ds, 6, ROWS);
        // Redis counts fences from nothing again; the store's record keeps the new ones above the old.
        const { jobId } = JSON.parse(sync.stdout) as { jobId: string };
        const [after] = await rows<{ v: string }>(`SELECT min(version) AS v FROM _bucketpipe_jobs WHERE job_id = '${jobId}'`);
        expect(BigInt(after!.v) > BigInt(before!.v)).toBe(true);
      }
      const unfinished = await rows<{ n: string }>("SELECT count() AS n FROM _bucketpipe_objects WHERE datasource IN ('left', 'right') AND notEmpty(unfinished)");
      expect(Number(unfinished[0]!.n)).toBe(0);
    }, 300_000);

    it('a killed run is marked interrupted by the next run, with its events up to the kill', async () => {
      const { project, env } = await fleetProject();
      await putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`slow/killed/k-${i}.csv`, srcCsv(`k-${i}`, ROWS)])));
      project.writeDatasource('killed', importDatasource(`s3://${t.bucket}/slow/killed/*.csv`, { schema: SRC_N_SCHEMA }));
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      const w: WorkerProcess = t.spawn(project.dir, env);
      await w.waitFor('worker started');
      const job = await queued(project, env, 'killed');
      // Objects load oldest first, each read stalling a while: the run is killed with three left,
      // once the events of the first two are in the store (they are written just after each commit).
      await w.waitFor(/"stage":"done".*slow\/killed\/k-1\.csv/, 90_000);
      const importedEvents = () => rows<{ n: string }>(`SELECT count() AS n FROM _bucketpipe_events WHERE job_id = '${job}' AND event = 'object_imported'`);
      await until(importedEvents, (r) => Number(r[0]!.n) >= 2, 30_000);
      await w.stop('SIGKILL');

      const next = await runCli(['datasource', 'sync', 'killed', '--wait'], { cwd: project.dir, env, timeoutMs: 180_000 });
      expect(next.code, next.stderr).toBe(0);
      await expectEveryRowOnce('killed', 5, ROWS);
      const [row] = await rows<{ status: string; error: string }>(`SELECT status, error FROM _bucketpipe_jobs FINAL WHERE job_id = '${job}'`);
      expect(row!.status).toBe('interrupted');
      expect(row!.error).toMatch(/^interrupted: its process stopped without finishing; found at \S+ by job \S+ on \S+:\d+$/);
      // Events were written as objects finished, not at the end of the run that never came.
      const events = await importedEvents();
      expect(Number(events[0]!.n)).toBeGreaterThanOrEqual(2);
      expect(Number(events[0]!.n)).toBeLessThan(5);
      const jobs = await runCli(['jobs', 'killed'], { cwd: project.dir, env });
      expect(jobs.stdout).toMatch(new RegExp(`${job}.*interrupted`));
    }, 300_000);

    it('a process whose clock is 10 minutes behind imports and exports every row once', async () => {
      const { project, env } = await fleetProject();
      const behind = { ...env, BUCKETPIPE_TEST_CLOCK_OFFSET_MS: String(-10 * 60_000) };
      project.writeDatasource(
        'skewed',
        importDatasource(`s3://${t.bucket}/skewed/*.csv`, { schema: SRC_N_SCHEMA }) + `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${t.bucket}/skewed-out/\nEXPORT_FORMAT csv\n`,
      );
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      // Runs alternate between a process with the right time and one 10 minutes behind.
      for (const [round, runEnv] of [env, behind, env, behind].entries()) {
        await putObjects(t.s3, t.bucket, { [`skewed/s-${round}.csv`]: srcCsv(`s-${round}`, 1000) });
        const sync = await runCli(['datasource', 'sync', 'skewed', '--wait'], { cwd: project.dir, env: runEnv });
        expect(sync.code, sync.stderr).toBe(0);
        const exported = await runCli(['export', 'skewed', '--wait'], { cwd: project.dir, env: runEnv });
        expect(exported.code, exported.stderr).toBe(0);
      }
      await expectEveryRowOnce('skewed', 4, 1000);
      const lines: string[] = [];
      for (const key of await keysUnder(t.s3, t.bucket, 'skewed-out/')) lines.push(...(await readText(t.s3, t.bucket, key)).trim().split('\n').slice(1));
      expect(lines).toHaveLength(4000);
      expect(new Set(lines).size).toBe(4000);
    }, 300_000);

    it('an object replaced after it was listed is not loaded under the listed ETag: the next run loads the new version, once', async () => {
      const { project, env } = await fleetProject();
      await putObjects(t.s3, t.bucket, { 'pinned/p.csv': srcCsv('old', 10), 'pinned/q.csv': srcCsv('q', 10) });
      project.writeDatasource('pinned', importDatasource(`s3://${t.bucket}/pinned/*.csv`, { schema: SRC_N_SCHEMA }));
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      const app = await openApp({ projectDir: project.dir, env });
      t.cleanups.push(() => app.close());
      let replaced = false;
      const first = await importHere(app, 'pinned', { trigger: 'on-demand' }, {
        adjust: (ctx) => {
          // Between the listing and the read: the first request for p.csv after the listing replaces it.
          ctx.access.client.middlewareStack.add(
            (next, context) => async (args) => {
              const input = args.input as { Key?: string };
              if (!replaced && context.commandName === 'GetObjectCommand' && input.Key === 'pinned/p.csv') {
                replaced = true;
                await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'pinned/p.csv', Body: srcCsv('new', 25) }));
              }
              return next(args);
            },
            { step: 'initialize', name: 'replaceAfterListing' },
          );
          return ctx;
        },
      });
      expect(replaced).toBe(true);
      const p = first.objects.find((o) => o.uri.endsWith('/p.csv'))!;
      expect(p.status).toBe('failed');
      expect(p.error?.code).toBe('OBJECT_CHANGED');
      const second = await runCli(['datasource', 'sync', 'pinned', '--wait'], { cwd: project.dir, env });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).not.toContain('changed since imported');
      await settled();
      const loaded = await rows<{ src: string; n: string }>('SELECT src, count() AS n FROM pinned GROUP BY src ORDER BY src');
      expect(loaded.map((r) => [r.src, Number(r.n)])).toEqual([['new', 25], ['q', 10]]);
      // The ledger names the version whose rows are in the table.
      const head = await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'pinned/p.csv' }));
      const done = await rows<{ etag: string }>("SELECT etag FROM _bucketpipe_objects WHERE datasource = 'pinned' AND key = 'pinned/p.csv' AND status = 'done'");
      expect(done.map((d) => d.etag)).toEqual([head.ETag!.replace(/"/g, '')]);
      const preview = await runCli(['datasource', 'preview', 'pinned'], { cwd: project.dir, env });
      expect(preview.stdout).toContain('2 objects match');
      expect(preview.stdout).toContain('0 new, 2 imported, 0 changed, 0 failed');
    });

    it('sync --wait without a reachable Redis refuses in one sentence and imports nothing', async () => {
      const { project, env } = await fleetProject();
      await putObjects(t.s3, t.bucket, { 'nolease/a.csv': srcCsv('a', 10) });
      project.writeDatasource('nolease', importDatasource(`s3://${t.bucket}/nolease/*.csv`, { schema: SRC_N_SCHEMA }));
      expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
      const result = await runCli(['datasource', 'sync', 'nolease', '--wait'], { cwd: project.dir, env: { ...env, REDIS_URL: 'redis://127.0.0.1:1' } });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1\/? does not answer \([^)]+\); importing in this process also needs the run's lease there, so that it never overlaps a worker's run\. Start Redis/);
      const [count] = await rows<{ n: string }>('SELECT count() AS n FROM nolease');
      expect(Number(count!.n)).toBe(0);
    });
  });
}
