import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { queuePrefix } from '../../src/queue/queue-names.js';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, until, type JobRow, useProcessTests } from '../helpers/scheduler-project.js';

const SCHEMA = SRC_N_SCHEMA;
const csv = srcCsv;

describe('scheduler and workers', () => {
  const t = useProcessTests();
  const { s3, cleanups } = t;
  const newProject = t.newProject;
  const worker = (project: TestProjectDir, env: NodeJS.ProcessEnv) => t.spawn(project.dir, env);
  const sql = sqlRows;

  it('push keeps one job scheduler per @auto datasource and removes the others', async () => {
    const { project, env } = newProject();
    project.writeDatasource('ticking', importDatasource(`s3://${t.bucket}/none-a/*.csv`, { schema: SCHEMA, schedule: '@auto' }));
    project.writeDatasource('manual', importDatasource(`s3://${t.bucket}/none-b/*.csv`, { schema: SCHEMA }));
    const redis = new Redis(inject('redisUrl'));
    const queue = new Queue('imports', { connection: redis, prefix: queuePrefix(project.dir, env) });
    cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    const schedulers = async () => (await queue.getJobSchedulers(0, -1)).map((s) => `${s.key} every ${s.every}`).sort();

    const first = await runCli(['push'], { cwd: project.dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('schedule ticking: import every 1.5 s');
    expect(await schedulers()).toEqual(['auto:ticking every 1500']);

    const again = await runCli(['push'], { cwd: project.dir, env });
    expect(again.stdout).toContain('Everything is up to date.');
    expect(await schedulers()).toEqual(['auto:ticking every 1500']);

    rmSync(join(project.dir, 'datasources', 'ticking.datasource'));
    project.writeDatasource('manual', importDatasource(`s3://${t.bucket}/none-b/*.csv`, { schema: SCHEMA, schedule: '@auto' }));
    const switched = await runCli(['push'], { cwd: project.dir, env });
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stdout).toContain('unschedule ticking');
    expect(await schedulers()).toEqual(['auto:manual every 1500']);
  });

  it('@auto ticks import at most 5 objects each until every object is in', async () => {
    const { project, env } = newProject();
    const objects = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`tick/obj-${String(i).padStart(2, '0')}.csv`, csv(`tick/${i}`, 10)]));
    await putObjects(s3, t.bucket, objects);
    project.writeDatasource('ticks', importDatasource(`s3://${t.bucket}/tick/*.csv`, { schema: SCHEMA, schedule: '@auto' }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const w = worker(project, env);
    await w.waitFor('worker started');
    const jobs = await until(
      () => sql<JobRow>(project, env, "SELECT * FROM _bucketpipe_jobs FINAL WHERE datasource = 'ticks' AND status != 'running' ORDER BY started_at"),
      (rows) => rows.reduce((sum, j) => sum + j.objects, 0) >= 12,
    );
    const working = jobs.filter((j) => j.objects > 0);
    expect(working.every((j) => j.trigger === 'auto' && j.status === 'ok')).toBe(true);
    expect(working.map((j) => j.objects)).toEqual([5, 5, 2]);
    const [count] = await sql<{ rows: number; distinct: number }>(project, env, 'SELECT count() AS rows, uniqExact(src, n) AS distinct FROM ticks');
    expect(count).toEqual({ rows: 120, distinct: 120 });
    expect(await w.stop('SIGTERM')).toBe(0);
    expect(w.lines.some((l) => l.includes('worker stopped'))).toBe(true);
  });

  it('sync queues a job; --wait follows it and its exit code says how it ended', async () => {
    const { project, env } = newProject();
    await putObjects(s3, t.bucket, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`od/obj-${i}.csv`, csv(`od/${i}`, 3)])));
    await putObjects(s3, t.bucket, { 'odbad/not.parquet': 'this is not parquet' });
    project.writeDatasource('ondemand', importDatasource(`s3://${t.bucket}/od/*.csv`, { schema: SCHEMA }));
    project.writeDatasource('doomed', importDatasource(`s3://${t.bucket}/odbad/*.parquet`, { schema: SCHEMA }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);

    const queued = await runCli(['datasource', 'sync', 'ondemand'], { cwd: project.dir, env });
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/queued job sync-ondemand-/);
    expect(queued.stderr).toContain('no worker is running');

    const w = worker(project, env);
    await w.waitFor('worker started');
    await w.waitFor(/"datasource":"ondemand".*import finished/);
    const ok = await runCli(['--json', 'datasource', 'sync', 'ondemand', '--wait'], { cwd: project.dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'ok', objects: [] });
    const [count] = await sql<{ n: number }>(project, env, 'SELECT count() AS n FROM ondemand');
    expect(count).toEqual({ n: 24 });

    const failed = await runCli(['datasource', 'sync', 'doomed', '--wait'], { cwd: project.dir, env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`s3://${t.bucket}/odbad/not.parquet`);
  });
});
