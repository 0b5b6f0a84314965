import { describe, expect, it } from 'vitest';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, until, useProcessTests } from '../helpers/scheduler-project.js';

describe('bucketpipe dev and commands from another terminal', () => {
  const t = useProcessTests();
  const { s3 } = t;

  it('pushes, works, re-pushes on file changes, and serves sql, jobs, status, sync and preview to other processes', async () => {
    const { project, env } = t.newProject({ BUCKETPIPE_AUTO_INTERVAL_MS: '1000' });
    await putObjects(s3, t.bucket, Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`dev/obj-${i}.csv`, srcCsv(`dev/${i}`, 4)])));
    project.writeDatasource('devds', importDatasource(`s3://${t.bucket}/dev/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto' }));
    const dev = t.spawn(project.dir, env, ['dev']);
    await dev.waitFor('dev started');
    await dev.waitFor(/"datasource":"devds".*"objects":3.*import finished/);

    const [count] = await sqlRows<{ n: number }>(project, env, 'SELECT count() AS n FROM devds');
    expect(count).toEqual({ n: 12 });
    // Other terminals at the same time: each command is a process of its own.
    const [jobs, status, preview] = await Promise.all([
      runCli(['jobs', 'devds'], { cwd: project.dir, env }),
      runCli(['status'], { cwd: project.dir, env }),
      runCli(['datasource', 'preview', 'devds'], { cwd: project.dir, env }),
    ]);
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.stdout).toMatch(/devds\s+import\s+auto\s+ok/);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/devds\s+import\s+@auto\s+\d{4}-/);
    expect(status.stdout).toMatch(/workers: 1/);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('0 new, 3 imported');
    await putObjects(s3, t.bucket, { 'dev/obj-9.csv': srcCsv('dev/9', 2) });
    const sync = await runCli(['datasource', 'sync', 'devds', '--wait'], { cwd: project.dir, env });
    expect(sync.code, sync.stderr).toBe(0);
    const [after] = await sqlRows<{ n: number }>(project, env, 'SELECT count() AS n FROM devds');
    expect(after).toEqual({ n: 14 });

    project.writeDatasource('late', importDatasource(`s3://${t.bucket}/late/*.csv`, { schema: SRC_N_SCHEMA }));
    await until(
      () => sqlRows<{ result: number }>(project, env, 'EXISTS TABLE late'),
      (rows) => rows[0]?.result === 1,
      30_000,
    );
    expect(await dev.stop('SIGINT')).toBe(0);
  });

  it('says in one sentence that Redis does not answer, without a stack trace', async () => {
    const { project, env } = t.newProject({ REDIS_URL: 'redis://127.0.0.1:1' });
    project.writeDatasource('nowhere', importDatasource(`s3://${t.bucket}/nothing/*.csv`, { schema: SRC_N_SCHEMA, schedule: '@auto' }));
    const commands = [['status'], ['worker'], ['push'], ['datasource', 'sync', 'nowhere']];
    const results = await Promise.all(commands.map((args) => runCli(args, { cwd: project.dir, env, timeoutMs: 30_000 })));
    for (const [i, result] of results.entries()) {
      expect(result.code, commands[i]!.join(' ')).toBe(1);
      expect(result.stderr).toContain('Redis at redis://127.0.0.1:1 does not answer');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
