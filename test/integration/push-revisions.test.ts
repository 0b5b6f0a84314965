import { describe, expect, it } from 'vitest';
import { keysUnder, putObjects, readText } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, useProcessTests } from '../helpers/scheduler-project.js';

describe('the pushed project is the one every worker runs', () => {
  const t = useProcessTests();

  it('a push while a worker runs takes effect at its next job: a new column, EXPORT_* lines, a new bucket URI, a new datasource', async () => {
    const { project, env } = t.newProject();
    await putObjects(t.s3, t.bucket, { 'rev/one/a.csv': srcCsv('a', 3) });
    project.writeDatasource('revised', importDatasource(`s3://${t.bucket}/rev/one/*.csv`, { schema: SRC_N_SCHEMA }));
    const push = () => runCli(['push'], { cwd: project.dir, env });
    expect((await push()).code).toBe(0);
    const worker = t.spawn(project.dir, env);
    await worker.waitFor('worker started');
    const sync = (name: string) => runCli(['datasource', 'sync', name, '--wait'], { cwd: project.dir, env });
    expect((await sync('revised')).code).toBe(0);

    // Edited, not pushed: runs keep the pushed definition, the worker says so once, the CLI refuses what is not pushed.
    project.writeDatasource(
      'revised',
      importDatasource(`s3://${t.bucket}/rev/two/*.csv`, { schema: `${SRC_N_SCHEMA},\n    \`extra\` String` }) +
        `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${t.bucket}/rev-out/\nEXPORT_FORMAT csv\n`,
    );
    project.writeDatasource('added', importDatasource(`s3://${t.bucket}/rev/added/*.csv`, { schema: SRC_N_SCHEMA }));
    await putObjects(t.s3, t.bucket, { 'rev/one/b.csv': srcCsv('b', 4), 'rev/two/c.csv': 'src,n,extra\nc,0,x\nc,1,y\n', 'rev/added/d.csv': srcCsv('d', 5) });
    const before = await sync('revised');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('1 objects, 4 rows imported');
    const notPushed = await runCli(['export', 'revised', '--wait'], { cwd: project.dir, env });
    expect(notPushed.code).not.toBe(0);
    expect(notPushed.stderr).toContain('has no EXPORT_* settings in datasources/revised.datasource as pushed');
    const addedBefore = await runCli(['datasource', 'sync', 'added'], { cwd: project.dir, env });
    expect(addedBefore.code).not.toBe(0);
    expect(addedBefore.stderr).toMatch(/datasource added is in the files but not in the pushed project \(revision [0-9a-f]{16}\); run bucketpipe push first/);
    await worker.waitFor('the project files here differ from the revision pushed last');

    // Pushed: the same worker, without a restart, runs the new definitions at its next jobs.
    const pushed = await push();
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/recorded project revision [0-9a-f]{16} \(was [0-9a-f]{16}\): workers run it from their next job/);
    const after = await sync('revised');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('1 objects, 2 rows imported');
    const rows = await sqlRows<{ src: string; extra: string }>(project, env, "SELECT src, extra FROM revised WHERE src = 'c' ORDER BY n");
    expect(rows).toEqual([{ src: 'c', extra: 'x' }, { src: 'c', extra: 'y' }]);
    const exported = await runCli(['export', 'revised', '--wait'], { cwd: project.dir, env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/queued job export-revised-\S+; waiting for it/);
    const files = await keysUnder(t.s3, t.bucket, 'rev-out/');
    expect(files).toHaveLength(1);
    expect((await readText(t.s3, t.bucket, files[0]!)).trim().split('\n')).toHaveLength(1 + 3 + 4 + 2);
    expect((await sync('added')).code).toBe(0);
    expect(Number((await sqlRows<{ n: string }>(project, env, 'SELECT count() AS n FROM added'))[0]!.n)).toBe(5);
    // Said once per pushed revision it differed from, not once per job.
    expect(worker.lines.filter((l) => l.includes('the project files here differ')).length).toBe(1);
    const again = await push();
    expect(again.stdout).toContain('Everything is up to date.');
  });
});
