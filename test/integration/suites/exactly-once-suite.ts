import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBucket, putObjects, s3Client } from '../../helpers/bucket.js';
import { collect, runCli, spawnCli } from '../../helpers/cli.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../../helpers/s3-server.js';
import { freshServerDatabase } from '../../helpers/embedded.js';

const OBJECTS = 8;
const ROWS = 40_000;

/** Where to SIGKILL a sync: after the nth `stage` record of a given stage, plus a delay. */
interface KillPoint {
  stage: 'claimed' | 'loading' | 'loaded' | 'done';
  nth: number;
  delayMs: number;
}

const KILL_POINTS: KillPoint[] = [
  { stage: 'claimed', nth: 1, delayMs: 0 }, // ledger says loading, no rows yet
  { stage: 'loading', nth: 1, delayMs: 40 }, // in the middle of the insert
  { stage: 'loaded', nth: 1, delayMs: 0 }, // rows in, ledger not yet done
  { stage: 'loading', nth: 2, delayMs: 120 },
  { stage: 'done', nth: 1, delayMs: 0 }, // between two objects
  { stage: 'loading', nth: 1, delayMs: 10 },
];

/**
 * The SIGKILL suite against one store: the embedded engine, or (with `server`) the test ClickHouse
 * server, in a database of its own.
 */
export function defineExactlyOnceSuite(store: string, server: boolean): void {
  describe(`exactly once across SIGKILL (${store})`, () => {
  const endpoint = inject('s3Endpoint');
  const s3 = s3Client(endpoint);
  let project: TestProjectDir;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const bucket = await createBucket(s3);
    const objects: Record<string, string> = {};
    for (let o = 0; o < OBJECTS; o++) {
      const lines = ['obj,n,payload'];
      for (let n = 0; n < ROWS; n++) lines.push(`${o},${n},payload-${o}-${n}-abcdefghijklmnopqrstuvwxyz`);
      objects[`crash/part-${o}.csv`] = lines.join('\n') + '\n';
    }
    await putObjects(s3, bucket, objects);
    project = createProjectDir(endpoint);
    project.writeDatasource(
      'crashy',
      importDatasource(`s3://${bucket}/crash/*.csv`, { schema: '    `obj` UInt32,\n    `n` UInt32,\n    `payload` String' }),
    );
    dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-crash-'));
    // Batches of two: kills land inside a batch's statement and between batches.
    env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir, BUCKETPIPE_LOG_LEVEL: 'debug', REDIS_URL: inject('redisUrl'), BUCKETPIPE_IMPORT_BATCH_OBJECTS: '2' };
    if (server) env.BUCKETPIPE_CLICKHOUSE_URL = await freshServerDatabase();
  });
  afterAll(() => {
    project.remove();
    // The embedded engine may still be writing its last files as it closes (a full run once failed
    // here with ENOTEMPTY): the removal is tried again while the folder fills.
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 10 });
  });

  it('lands every row exactly once however often the sync is killed', async () => {
    const push = await runCli(['push'], { cwd: project.dir, env });
    expect(push.code, push.stderr).toBe(0);

    let kills = 0;
    for (const point of KILL_POINTS) {
      const child = spawnCli(['datasource', 'sync', 'crashy', '--wait'], { cwd: project.dir, env });
      let seen = 0;
      let buffered = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.includes(`"stage":"${point.stage}"`) && ++seen === point.nth) {
            setTimeout(() => child.kill('SIGKILL'), point.delayMs);
          }
        }
      });
      const result = await collect(child, 120_000);
      if (result.signal === 'SIGKILL') kills++;
      else break; // everything was imported before this kill point came
    }
    expect(kills).toBeGreaterThanOrEqual(3);

    const final = await runCli(['datasource', 'sync', 'crashy', '--wait', '--json'], { cwd: project.dir, env });
    expect(final.code, final.stderr).toBe(0);

    const counts = await runCli(
      ['sql', 'SELECT (SELECT count() FROM crashy) AS rows, (SELECT uniqExact(obj, n) FROM crashy) AS distinct_rows, count() AS objects, min(c) AS min_per_object, max(c) AS max_per_object FROM (SELECT obj, count() AS c FROM crashy GROUP BY obj)', '--format', 'JSONEachRow'],
      { cwd: project.dir, env },
    );
    expect(counts.code, counts.stderr).toBe(0);
    // Servers quote 64-bit integers in JSON.
    expect(Object.fromEntries(Object.entries(JSON.parse(counts.stdout) as Record<string, unknown>).map(([k, v]) => [k, Number(v)]))).toEqual({
      rows: OBJECTS * ROWS,
      distinct_rows: OBJECTS * ROWS,
      objects: OBJECTS,
      min_per_object: ROWS,
      max_per_object: ROWS,
    });

    const ledger = await runCli(
      ['sql', "SELECT countIf(status = 'done') AS done, count() AS objects, (SELECT count() FROM _bucketpipe_events WHERE event = 'import_undone') AS undone FROM (SELECT key, argMax(status, version) AS status FROM _bucketpipe_objects WHERE datasource = 'crashy' GROUP BY key)", '--format', 'JSONEachRow'],
      { cwd: project.dir, env },
    );
    const state = Object.fromEntries(Object.entries(JSON.parse(ledger.stdout) as Record<string, unknown>).map(([k, v]) => [k, Number(v)])) as { done: number; objects: number; undone: number };
    expect(state.done).toBe(OBJECTS);
    expect(state.objects).toBe(OBJECTS);
    expect(state.undone).toBeGreaterThanOrEqual(1);
  });
});
}
