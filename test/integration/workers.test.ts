import { describe, expect, it } from 'vitest';
import { startLocalRedis } from '../../scripts/local-redis.js';
import type { WorkerProcess } from '../helpers/worker.js';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, until, type JobRow, useProcessTests } from '../helpers/scheduler-project.js';

describe('several workers, stops and restarts', () => {
  const t = useProcessTests();
  const { s3, cleanups } = t;
  const worker = (dir: string, env: NodeJS.ProcessEnv) => t.spawn(dir, env);

  it('two worker processes share the work over 30 objects: every row once, never two runs of a datasource at a time', async () => {
    const { project, env } = t.newProject({ BUCKETPIPE_AUTO_INTERVAL_MS: '700' });
    for (const ds of ['alpha', 'beta', 'gamma']) {
      await putObjects(s3, t.bucket, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`two/${ds}/obj-${i}.csv`, srcCsv(`${ds}/${i}`, 500)])));
      project.writeDatasource(ds, importDatasource(`s3://${t.bucket}/two/${ds}/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto', more: 'IMPORT_MAX_FILES_PER_RUN 2' }));
    }
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const first = worker(project.dir, env);
    await first.waitFor('worker started');
    const second = worker(project.dir, env);
    await second.waitFor('worker started');
    const queued = await Promise.all(['alpha', 'beta', 'gamma'].map((ds) => runCli(['datasource', 'sync', ds], { cwd: project.dir, env })));
    for (const result of queued) expect(result.code).toBe(0);

    await until(
      () => sqlRows<{ n: number }>(project, env, "SELECT count() AS n FROM _bucketpipe_objects WHERE status = 'done'"),
      (rows) => rows[0]?.n === 30,
    );
    const counts = await Promise.all(['alpha', 'beta', 'gamma'].map((ds) => sqlRows<{ rows: number; distinct: number }>(project, env, `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM ${ds}`)));
    for (const [count] of counts) expect(count).toEqual({ rows: 5000, distinct: 5000 });
    const jobs = await sqlRows<JobRow>(project, env, "SELECT * FROM _bucketpipe_jobs FINAL WHERE status != 'running' ORDER BY datasource, started_at");
    for (const ds of ['alpha', 'beta', 'gamma']) {
      const runs = jobs.filter((j) => j.datasource === ds);
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.started_at >= runs[i - 1]!.finished_at!, `${ds} runs overlap`).toBe(true);
    }
    const finishedBy = (w: WorkerProcess) => w.lines.filter((l) => l.includes('import finished') && !l.includes('"objects":0')).length;
    expect(finishedBy(first)).toBeGreaterThan(0);
    expect(finishedBy(second)).toBeGreaterThan(0);
  });

  it('SIGTERM mid-run finishes the current batch of objects and exits 0; after a restart every row is in once', async () => {
    // Batches of two: the worker stops between batches, with objects left for the next run.
    const { project, env } = t.newProject({ BUCKETPIPE_IMPORT_BATCH_OBJECTS: '2' });
    await putObjects(s3, t.bucket, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`term/obj-${i}.csv`, srcCsv(`term/${i}`, 30_000)])));
    project.writeDatasource('terminated', importDatasource(`s3://${t.bucket}/term/*.csv`, { schema: SRC_N_SCHEMA }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const w = worker(project.dir, env);
    await w.waitFor('worker started');
    expect((await runCli(['datasource', 'sync', 'terminated'], { cwd: project.dir, env })).code).toBe(0);
    await w.waitFor('"stage":"loading"');
    const code = await w.stop('SIGTERM');
    expect(code).toBe(0);
    expect(w.lines.some((l) => l.includes('worker stopped'))).toBe(true);
    const loadedBeforeStop = w.lines.filter((l) => l.includes('"stage":"done"')).length;
    expect(loadedBeforeStop).toBeGreaterThanOrEqual(1);
    expect(loadedBeforeStop).toBeLessThan(8);

    const again = worker(project.dir, env);
    await again.waitFor('worker started');
    const finish = await runCli(['datasource', 'sync', 'terminated', '--wait'], { cwd: project.dir, env });
    expect(finish.code, finish.stderr).toBe(0);
    const [count] = await sqlRows<{ rows: number; distinct: number }>(project, env, 'SELECT count() AS rows, uniqExact(src, n) AS distinct FROM terminated');
    expect(count).toEqual({ rows: 240_000, distinct: 240_000 });
  });

  it('schedules carry on after Redis restarts empty', async () => {
    const redis = await startLocalRedis();
    cleanups.push(() => redis.stop());
    const { project, env } = t.newProject({ REDIS_URL: redis.url, BUCKETPIPE_AUTO_INTERVAL_MS: '800' });
    await putObjects(s3, t.bucket, { 'rr/before.csv': srcCsv('before', 5) });
    project.writeDatasource('restarts', importDatasource(`s3://${t.bucket}/rr/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto' }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const w = worker(project.dir, env);
    await w.waitFor(/"datasource":"restarts".*"objects":1.*import finished/);

    await redis.restart();
    await putObjects(s3, t.bucket, { 'rr/after.csv': srcCsv('after', 7) });
    // The schedule is gone with the restart; the worker puts it back when Redis is ready again.
    await w.waitFor(/"datasource":"restarts".*"objects":1,"rows":7,.*import finished/);
    const [count] = await sqlRows<{ before: number; after: number }>(project, env, "SELECT countIf(src = 'before') AS before, countIf(src = 'after') AS after FROM restarts");
    expect(count).toEqual({ before: 5, after: 7 });
  });
});
