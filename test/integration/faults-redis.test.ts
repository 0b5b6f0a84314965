import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis.js';
import { openRunQueue, type RunQueue } from '../../src/queue/job-queue.js';
import { queuePrefix } from '../../src/queue/queue-names.js';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, until, useProcessTests, type ProcessTests } from '../helpers/scheduler-project.js';

const ROWS_PER_OBJECT = 20_000;
/** Long enough for the worker's commands (lock renewals, progress, job moves) to fail meanwhile. */
const DOWN_MS = 2_000;

/** A project on a Redis of its own, with the queue as a test reads it. */
async function projectOnOwnRedis(t: ProcessTests, persistent: boolean): Promise<{ project: TestProjectDir; env: NodeJS.ProcessEnv; redis: LocalRedis; queue: () => RunQueue }> {
  const redis = await startLocalRedis({ persistent });
  t.cleanups.push(() => redis.stop());
  const { project, env } = t.newProject({ REDIS_URL: redis.url, BUCKETPIPE_AUTO_INTERVAL_MS: '1500' });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = openRunQueue(connection, queuePrefix(project.dir, env));
  // The restarts are on purpose; the test's own connection just reconnects.
  queue.on('error', () => undefined);
  t.cleanups.push(async () => {
    await queue.close();
    connection.disconnect();
  });
  return { project, env, redis, queue: () => queue };
}

describe('Redis restarted in the middle of a run', () => {
  const t = useProcessTests();

  const put = (prefix: string, from: number, count: number) =>
    putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}/obj-${from + i}.csv`, srcCsv(`${prefix}/${from + i}`, ROWS_PER_OBJECT)])));

  const rowsOf = async (project: TestProjectDir, env: NodeJS.ProcessEnv, table: string) =>
    (await sqlRows<{ rows: number; distinct: number }>(project, env, `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM ${table}`))[0];

  /** Runs of a job in the ops log: a job run twice would show two start times. */
  const runsOf = async (project: TestProjectDir, env: NodeJS.ProcessEnv, jobId: string) =>
    (await sqlRows<{ runs: number; status: string }>(project, env, `SELECT uniqExact(started_at) AS runs, argMax(status, version) AS status FROM _bucketpipe_jobs WHERE job_id = '${jobId}'`))[0];

  // The two tests share only the bucket (each has its own Redis, project, store and prefix), and run at
  // once: much of each is waiting for Redis to come back and for the schedule's next tick.
  it.concurrent('with persistence (as in production): queued and running jobs each complete once, and the schedule goes on', async ({ expect, onTestFinished }) => {
    const { project, env, redis, queue } = await projectOnOwnRedis(t, true);
    const prefix = `p${Date.now().toString(36)}`;
    await put(`${prefix}/ticked`, 0, 4);
    await put(`${prefix}/asked1`, 0, 4);
    await put(`${prefix}/asked2`, 0, 4);
    project.writeDatasource('ticked', importDatasource(`s3://${t.bucket}/${prefix}/ticked/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto', more: 'IMPORT_MAX_FILES_PER_RUN 2' }));
    for (const name of ['asked1', 'asked2']) project.writeDatasource(name, importDatasource(`s3://${t.bucket}/${prefix}/${name}/*.csv`, { schema: SRC_N_SCHEMA }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const worker = t.spawn(project.dir, env, undefined, { onTestFinished });
    await worker.waitFor('worker started');
    const jobIds: string[] = [];
    for (const name of ['asked1', 'asked2']) {
      const queued = await runCli(['--json', 'datasource', 'sync', name], { cwd: project.dir, env });
      expect(queued.code, queued.stderr).toBe(0);
      jobIds.push((JSON.parse(queued.stdout) as { jobId: string }).jobId);
    }

    await worker.waitFor(/"datasource":"asked1".*"stage":"loading"/);
    await redis.restart(DOWN_MS);
    await put(`${prefix}/ticked`, 4, 2);

    for (const jobId of jobIds) {
      await until(async () => (await Job.fromId(queue(), jobId))?.getState(), (state) => state === 'completed', 120_000);
    }
    await until(() => rowsOf(project, env, 'ticked'), (rows) => rows?.rows === 6 * ROWS_PER_OBJECT, 120_000);
    for (const [i, name] of ['asked1', 'asked2'].entries()) {
      expect(await rowsOf(project, env, name)).toEqual({ rows: 4 * ROWS_PER_OBJECT, distinct: 4 * ROWS_PER_OBJECT });
      expect(await runsOf(project, env, jobIds[i]!)).toEqual({ runs: 1, status: 'ok' });
      expect(worker.lines.filter((l) => l.includes(`"job":"${jobIds[i]}"`) && l.includes('import finished'))).toHaveLength(1);
    }
    expect(await rowsOf(project, env, 'ticked')).toEqual({ rows: 6 * ROWS_PER_OBJECT, distinct: 6 * ROWS_PER_OBJECT });
    expect((await queue().getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['auto:ticked']);
    expect(worker.lines.some((l) => l.includes('lost the connection to Redis'))).toBe(true);
  }, 300_000);

  it.concurrent('without persistence: the schedules come back, the run under way finishes or stops (its lease went with Redis), and every row lands once', async ({ expect, onTestFinished }) => {
    const { project, env, redis, queue } = await projectOnOwnRedis(t, false);
    const prefix = `e${Date.now().toString(36)}`;
    await put(prefix, 0, 6);
    project.writeDatasource('emptied', importDatasource(`s3://${t.bucket}/${prefix}/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto', more: 'IMPORT_MAX_FILES_PER_RUN 2' }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const worker = t.spawn(project.dir, env, undefined, { onTestFinished });
    await worker.waitFor('worker started');

    await worker.waitFor(/"datasource":"emptied".*"stage":"loading"/);
    await redis.restart(DOWN_MS);
    await put(prefix, 6, 2);

    await until(() => rowsOf(project, env, 'emptied'), (rows) => rows?.rows === 8 * ROWS_PER_OBJECT, 120_000);
    expect(await rowsOf(project, env, 'emptied')).toEqual({ rows: 8 * ROWS_PER_OBJECT, distinct: 8 * ROWS_PER_OBJECT });
    const ledger = await sqlRows<{ status: string; objects: number }>(
      project,
      env,
      "SELECT status, count() AS objects FROM (SELECT key, argMax(status, version) AS status FROM _bucketpipe_objects WHERE datasource = 'emptied' GROUP BY key) GROUP BY status",
    );
    expect(ledger).toEqual([{ status: 'done', objects: 8 }]);
    expect((await queue().getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['auto:emptied']);
    // Every run the ops log knows started once and ended: ok, or (the one under way at the restart,
    // if it still had to prove its lease) stopped because its lease went with Redis's data.
    const runs = await sqlRows<{ job_id: string; runs: number; status: string; objects: number; error: string }>(
      project,
      env,
      "SELECT job_id, uniqExact(started_at) AS runs, argMax(status, version) AS status, argMax(objects, version) AS objects, argMax(error, version) AS error FROM _bucketpipe_jobs WHERE datasource = 'emptied' GROUP BY job_id",
    );
    const stopped = runs.filter((r) => r.status === 'error');
    expect(runs.filter((r) => r.runs !== 1 || (r.status !== 'ok' && r.status !== 'error'))).toEqual([]);
    expect(stopped.length).toBeLessThanOrEqual(1);
    for (const run of stopped) expect(run.error).toMatch(/lost its hold on emptied/);
    const imported = await sqlRows<{ n: number }>(project, env, "SELECT count() AS n FROM _bucketpipe_events WHERE datasource = 'emptied' AND event = 'object_imported'");
    expect(imported[0]!.n).toBe(8);
    expect(worker.lines.some((l) => l.includes('lost the connection to Redis'))).toBe(true);
  }, 300_000);
});
