import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, inject, it } from 'vitest';
import { FAULT_KINDS, startFaultProxy, type FaultCounts, type FaultProxy, type FaultProxyOptions } from '../helpers/fault-proxy.js';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource, localConnection, type TestProjectDir } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, useProcessTests } from '../helpers/scheduler-project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

const OBJECTS = 50;
const ROWS_PER_OBJECT = 4_000;
const TOTAL = OBJECTS * ROWS_PER_OBJECT;
/** Two files: the first over 8 MiB (a multipart upload), the second a single PUT. */
const ROWS_PER_FILE = 110_000;
const SCHEMA = '    `src` String,\n    `n` UInt32,\n    `payload` String';

function payloadCsv(src: string, rows: number): string {
  const lines = ['src,n,payload'];
  for (let n = 0; n < rows; n++) lines.push(`${src},${n},payload-${src}-${n}-abcdefghijklmnopqrstuvwxyz`);
  return lines.join('\n') + '\n';
}

const faultsIn = (counts: FaultCounts) => Object.values(counts.faults).reduce((a, b) => a + b, 0);

describe('imports and exports through a faulty S3', () => {
  const t = useProcessTests();
  const endpoint = inject('s3Endpoint');
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
  });
  const proxy = async (options: Omit<FaultProxyOptions, 'target'>) => {
    const started = await startFaultProxy({ target: endpoint, ...options });
    proxies.push(started);
    return started;
  };
  /** The project's connections: `reads` for the import, `writes` for the export, each through its own proxy. */
  const connect = (project: TestProjectDir, reads: FaultProxy, writes: FaultProxy) => {
    project.writeConnection('local', localConnection(reads.endpoint));
    project.writeConnection('writes', localConnection(writes.endpoint));
  };
  const bucketKeys = async (prefix: string) =>
    ((await t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }))).Contents ?? []).map((o) => `s3://${t.bucket}/${o.Key!}`).sort();
  /** Rows of the exported JSONL files, read straight from the service, past the proxies. */
  const exportedRows = async (project: TestProjectDir, env: NodeJS.ProcessEnv, prefix: string, structure: string) =>
    (await sqlRows<{ rows: number; distinct: number }>(
      project,
      env,
      `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM s3('${endpoint}/${t.bucket}/${prefix}**.jsonl', '${S3_KEY}', '${S3_SECRET}', 'JSONEachRow', '${structure}')`,
    ))[0];

  // The three tests share nothing but the bucket (each has its own project, proxies and prefix), and
  // run at once: the black-hole test mostly waits out the S3 client's 30 s idle timeout, which the
  // other two fill with their work.
  it.concurrent(`with 20% of requests failing, a worker imports ${OBJECTS} objects and exports ${TOTAL} rows exactly once`, async ({ expect, onTestFinished }) => {
    // Every S3 request of the worker (the SDK's, and the engine's own s3() reads) goes through a
    // proxy. The seeds are fixed; the writes' one faults the export's first uploads (after the two
    // requests of push's test write, which go through unharmed).
    const reads = await proxy({ rate: 0, seed: 20260701 });
    const writes = await proxy({ rate: 0, seed: 338 });
    const { project, env } = t.newProject();
    connect(project, reads, writes);
    await putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: OBJECTS }, (_, i) => [`in/obj-${String(i).padStart(2, '0')}.csv`, payloadCsv(`o${i}`, ROWS_PER_OBJECT)])));
    project.writeDatasource(
      'faulty',
      importDatasource(`s3://${t.bucket}/in/*.csv`, { schema: SCHEMA }) +
        `EXPORT_CONNECTION_NAME writes\nEXPORT_BUCKET_URI s3://${t.bucket}/out/\nEXPORT_FORMAT jsonl\nEXPORT_MAX_ROWS_PER_FILE ${ROWS_PER_FILE}\n`,
    );
    // The project is set up without faults; the runs are what is under test.
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const worker = t.spawn(project.dir, env, undefined, { onTestFinished });
    await worker.waitFor('worker started');
    reads.setRate(0.2);
    writes.setRate(0.2);

    const started = Date.now();
    const imported = await runCli(['datasource', 'sync', 'faulty', '--wait'], { cwd: project.dir, env, timeoutMs: 400_000 });
    expect(imported.code, imported.stderr + imported.stdout).toBe(0);
    const importMs = Date.now() - started;
    const exported = await runCli(['--json', 'export', 'faulty', '--wait'], { cwd: project.dir, env, timeoutMs: 300_000 });
    expect(exported.code, exported.stderr + exported.stdout).toBe(0);
    const exportMs = Date.now() - started - importMs;
    reads.setRate(0);
    writes.setRate(0);
    const [readFaults, writeFaults] = [reads.counts(), writes.counts()];
    console.log(`import ${importMs} ms, faults ${JSON.stringify(readFaults)}; export ${exportMs} ms, faults ${JSON.stringify(writeFaults)}`);
    expect(faultsIn(readFaults)).toBeGreaterThan(0);
    expect(faultsIn(writeFaults)).toBeGreaterThan(0);
    for (const kind of FAULT_KINDS) expect(readFaults.faults[kind] + writeFaults.faults[kind], kind).toBeGreaterThan(0);

    const [table] = await sqlRows<{ rows: number; distinct: number; objects: number }>(project, env, 'SELECT count() AS rows, uniqExact(src, n) AS distinct, uniqExact(src) AS objects FROM faulty');
    expect(table).toEqual({ rows: TOTAL, distinct: TOTAL, objects: OBJECTS });
    const ledger = await sqlRows<{ status: string; objects: number }>(
      project,
      env,
      "SELECT status, count() AS objects FROM (SELECT key, argMax(status, version) AS status FROM _bucketpipe_objects WHERE datasource = 'faulty' GROUP BY key) GROUP BY status",
    );
    expect(ledger).toEqual([{ status: 'done', objects: OBJECTS }]);

    const report = JSON.parse(exported.stdout) as { rows: number; files: Array<{ uri: string }> };
    expect(report.rows).toBe(TOTAL);
    const keys = await bucketKeys('out/');
    expect(keys).toEqual(report.files.map((f) => f.uri).sort());
    expect(keys).toHaveLength(Math.ceil(TOTAL / ROWS_PER_FILE));
    expect(await exportedRows(project, env, 'out/', 'src String, n UInt32, payload String')).toEqual({ rows: TOTAL, distinct: TOTAL });
  }, 720_000);

  it.concurrent('an upload the service stored but whose answer was lost does not stay in the bucket when the run fails', async ({ expect }) => {
    const reads = await proxy({ rate: 0, seed: 1 });
    // Every upload's answer is lost (reset or cut short) after the service stored it, on each retry.
    const writes = await proxy({ rate: 1, seed: 2, kinds: ['reset', 'truncate'], appliesTo: (r) => r.method === 'PUT' || r.method === 'POST' });
    const { project, env } = t.newProject();
    connect(project, reads, writes);
    await putObjects(t.s3, t.bucket, { 'lost/a.csv': srcCsv('a', 3_000), 'lost/b.csv': srcCsv('b', 2_000) });
    project.writeDatasource(
      'lost',
      importDatasource(`s3://${t.bucket}/lost/*.csv`, { schema: SRC_N_SCHEMA }) +
        `EXPORT_CONNECTION_NAME writes\nEXPORT_BUCKET_URI s3://${t.bucket}/lost-out/\nEXPORT_FORMAT jsonl\nEXPORT_MAX_ROWS_PER_FILE 2000\nEXPORT_TEST_WRITE false\n`,
    );
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    expect((await runCli(['datasource', 'sync', 'lost', '--wait'], { cwd: project.dir, env })).code).toBe(0);

    // No worker: the export runs in the CLI's process and fails once the SDK's retries are spent.
    const failed = await runCli(['export', 'lost', '--wait'], { cwd: project.dir, env });
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(faultsIn(writes.counts())).toBeGreaterThan(0);
    expect(await bucketKeys('lost-out/')).toEqual([]);

    writes.setRate(0);
    const again = await runCli(['--json', 'export', 'lost', '--wait'], { cwd: project.dir, env });
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { rows: number; files: Array<{ uri: string }> };
    expect(report.rows).toBe(5_000);
    expect(await bucketKeys('lost-out/')).toEqual(report.files.map((f) => f.uri).sort());
    expect(await exportedRows(project, env, 'lost-out/', 'src String, n UInt32')).toEqual({ rows: 5_000, distinct: 5_000 });
  }, 300_000);

  it.concurrent('reads that never answer are given up and tried again: the import completes', async ({ expect, onTestFinished }) => {
    // The first read of the object's bytes by the SDK, and the first by the engine, stall far longer
    // than any client should wait: black holes.
    const holed = new Set<string>();
    const reads = await proxy({
      rate: 1,
      seed: 3,
      kinds: ['stall'],
      stallMs: 600_000,
      appliesTo: (r) => {
        if (r.method !== 'GET' || !r.url.includes('/hole/')) return false;
        const reader = /aws-sdk-js/.test(String(r.headers['user-agent'])) ? 'sdk' : 'engine';
        if (holed.has(reader)) return false;
        holed.add(reader);
        return true;
      },
    });
    const { project, env } = t.newProject();
    connect(project, reads, reads);
    await putObjects(t.s3, t.bucket, { 'hole/a.csv': srcCsv('a', 1_000) });
    project.writeDatasource('hole', importDatasource(`s3://${t.bucket}/hole/*.csv`, { schema: SRC_N_SCHEMA }));
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    // The stall comes in the middle of the body, past the SDK's own retries: the job is retried.
    const worker = t.spawn(project.dir, env, undefined, { onTestFinished });
    await worker.waitFor('worker started');
    const started = Date.now();
    const imported = await runCli(['datasource', 'sync', 'hole', '--wait'], { cwd: project.dir, env, timeoutMs: 150_000 });
    console.log(`black hole: ${JSON.stringify(reads.counts())}; the import took ${Date.now() - started} ms`);
    expect(imported.code, imported.stderr).toBe(0);
    expect(reads.counts().faults.stall).toBe(2);
    expect(await sqlRows(project, env, 'SELECT count() AS rows, uniqExact(src, n) AS distinct FROM hole')).toEqual([{ rows: 1_000, distinct: 1_000 }]);
  }, 300_000);
});
