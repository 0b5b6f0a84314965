import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { queuePrefix } from '../../src/queue/queue-names.js';
import { putObjects } from '../helpers/bucket.js';
import { collect, runCli, spawnCli } from '../helpers/cli.js';
import { importDatasource } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, until, useProcessTests } from '../helpers/scheduler-project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

describe('exports run by processes', () => {
  const endpoint = inject('s3Endpoint');
  const t = useProcessTests();
  const { s3, cleanups } = t;

  const keys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

  /** Rows of every exported JSONL object under a prefix, read back with the CLI's engine. */
  const exportedRows = (project: Parameters<typeof sqlRows>[0], env: NodeJS.ProcessEnv, prefix: string) =>
    sqlRows<{ rows: number; distinct: number }>(
      project,
      env,
      `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM s3('${endpoint}/${t.bucket}/${prefix}**.jsonl', '${S3_KEY}', '${S3_SECRET}', 'JSONEachRow', 'src String, n UInt32')`,
    );

  it('a SIGKILL in the middle of an export leaves no partial run: the next run removes its files and exports every row once', async () => {
    const { project, env } = t.newProject({ BUCKETPIPE_LOG_LEVEL: 'debug' });
    await putObjects(s3, t.bucket, Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`xk/obj-${i}.csv`, srcCsv(`xk/${i}`, 25_000)])));
    project.writeDatasource(
      'killed',
      importDatasource(`s3://${t.bucket}/xk/*.csv`, { schema: SRC_N_SCHEMA }) +
        `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${t.bucket}/xk-out/\nEXPORT_FORMAT jsonl\nEXPORT_MAX_ROWS_PER_FILE 10000\n`,
    );
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    expect((await runCli(['datasource', 'sync', 'killed', '--wait'], { cwd: project.dir, env })).code).toBe(0);

    const child = spawnCli(['export', 'killed', '--wait'], { cwd: project.dir, env });
    let uploads = 0;
    child.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.includes('"stage":"uploaded"') && ++uploads === 3) child.kill('SIGKILL');
    });
    const killed = await collect(child, 120_000);
    expect(killed.signal).toBe('SIGKILL');
    const left = await keys('xk-out/');
    expect(left.length).toBeGreaterThanOrEqual(3);
    expect(left.length).toBeLessThan(10);

    const again = await runCli(['--json', 'export', 'killed', '--wait'], { cwd: project.dir, env });
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { recovered: number; rows: number; files: unknown[]; runId: string };
    expect(report).toMatchObject({ recovered: 1, rows: 100_000 });
    expect(report.files).toHaveLength(10);
    const now = await keys('xk-out/');
    expect(now).toHaveLength(10);
    expect(now.every((k) => k.includes(report.runId))).toBe(true);
    expect(await exportedRows(project, env, 'xk-out/')).toEqual([{ rows: 100_000, distinct: 100_000 }]);
  });

  it('push schedules a cron EXPORT_SCHEDULE and a worker runs it; export --wait follows a worker job', async () => {
    const { project, env } = t.newProject();
    await putObjects(s3, t.bucket, { 'cron/a.csv': srcCsv('cron/a', 30) });
    project.writeDatasource(
      'cronned',
      importDatasource(`s3://${t.bucket}/cron/*.csv`, { schema: SRC_N_SCHEMA }) +
        `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${t.bucket}/cron-out/\nEXPORT_FORMAT jsonl\nEXPORT_SCHEDULE */2 * * * * *\n`,
    );
    const push = await runCli(['push'], { cwd: project.dir, env });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('schedule the export of cronned: */2 * * * * * (UTC)');
    const redis = new Redis(inject('redisUrl'));
    const queue = new Queue('imports', { connection: redis, prefix: queuePrefix(project.dir, env) });
    cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    expect((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.pattern])).toEqual([['export:cronned', '*/2 * * * * *']]);

    const w = t.spawn(project.dir, env);
    await w.waitFor('worker started');
    expect((await runCli(['datasource', 'sync', 'cronned', '--wait'], { cwd: project.dir, env })).code).toBe(0);
    await w.waitFor(/"kind":"export","status":"ok","files":1,"rows":30.*export finished/);
    expect(await exportedRows(project, env, 'cron-out/')).toEqual([{ rows: 30, distinct: 30 }]);

    await putObjects(s3, t.bucket, { 'cron/b.csv': srcCsv('cron/b', 5) });
    expect((await runCli(['datasource', 'sync', 'cronned', '--wait'], { cwd: project.dir, env })).code).toBe(0);
    const follow = await runCli(['export', 'cronned', '--wait'], { cwd: project.dir, env });
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toMatch(/queued job export-cronned-/);
    await until(() => exportedRows(project, env, 'cron-out/'), (rows) => rows[0]?.rows === 35, 30_000);
    expect(await exportedRows(project, env, 'cron-out/')).toEqual([{ rows: 35, distinct: 35 }]);
  });

  it('push names an export t.bucket it cannot write to, at its file and line', async () => {
    const { project, env } = t.newProject();
    project.writeConnection('other', `TYPE s3\nS3_ACCESS_KEY {{ tb_secret("OTHER_KEY") }}\nS3_SECRET {{ tb_secret("OTHER_SECRET") }}\nS3_ENDPOINT "${endpoint}"\n`);
    project.writeDatasource('unwritable', `SCHEMA >\n    \`a\` Int32\n\nEXPORT_CONNECTION_NAME other\nEXPORT_BUCKET_URI s3://${t.bucket}/nope/\nEXPORT_STRATEGY full\n`);
    // s3rver refuses only unknown access key ids.
    const push = await runCli(['push'], { cwd: project.dir, env: { ...env, OTHER_KEY: 'UNKNOWNKEYID', OTHER_SECRET: 'x' } });
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/datasources\/unwritable\.datasource:4: .*credentials were refused.*EXPORT_TEST_WRITE false/);
    const tables = await sqlRows<{ n: number }>(project, env, "SELECT count() AS n FROM system.tables WHERE name = 'unwritable'");
    expect(tables).toEqual([{ n: 0 }]);
  });
});
