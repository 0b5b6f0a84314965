import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { enqueueRun, openRunQueue } from '../../src/queue/job-queue.js';
import { queuePrefix } from '../../src/queue/queue-names.js';
import { putObjects } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { importDatasource } from '../helpers/project.js';
import { sqlRows, srcCsv, SRC_N_SCHEMA, useProcessTests } from '../helpers/scheduler-project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';
import { seededRandom } from '../helpers/seeded-random.js';

const ROUNDS = 20;
const OBJECTS_PER_ROUND = 2;
const ROWS_PER_OBJECT = 10_000;
const TOTAL = ROUNDS * OBJECTS_PER_ROUND * ROWS_PER_OBJECT;
/**
 * Rounds take turns killing the worker in the import (a random delay after its first claim; a round's
 * import takes 200-600 ms) and in the export (after the import finished; an export takes 300-500 ms).
 * Some kills come after the phase ended: the worker may die at any moment.
 */
const PHASES = [
  { name: 'import', startsWith: '"stage":"claimed"', maxDelayMs: 250 },
  { name: 'export', startsWith: 'import finished', maxDelayMs: 350 },
] as const;

describe('a worker SIGKILLed at random moments of imports and exports', () => {
  const t = useProcessTests();
  const endpoint = inject('s3Endpoint');

  it(`${ROUNDS} rounds of kill and restart: every row once in the table and once in the bucket, no partial file`, async () => {
    const { project, env } = t.newProject();
    project.writeDatasource(
      'killed',
      importDatasource(`s3://${t.bucket}/k/*.csv`, { schema: SRC_N_SCHEMA }) +
        `EXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://${t.bucket}/k-out/\nEXPORT_FORMAT jsonl\nEXPORT_MAX_ROWS_PER_FILE 2000\n`,
    );
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = openRunQueue(redis, queuePrefix(project.dir, env));
    t.cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });

    const random = seededRandom(7_2026);
    const kills: string[] = [];
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      // The round's objects are written while its worker starts: nothing is queued before both are done.
      const worker = t.spawn(project.dir, env);
      await Promise.all([
        putObjects(t.s3, t.bucket, Object.fromEntries(Array.from({ length: OBJECTS_PER_ROUND }, (_, j) => [`k/r${round}-${j}.csv`, srcCsv(`r${round}-${j}`, ROWS_PER_OBJECT)]))),
        worker.waitFor('worker started'),
      ]);
      await enqueueRun(queue, { datasource: 'killed', trigger: 'on-demand' });
      await enqueueRun(queue, { datasource: 'killed', kind: 'export', trigger: 'on-demand' });
      const phase = PHASES[round % PHASES.length]!;
      const delayMs = Math.floor(random() * phase.maxDelayMs);
      await worker.waitFor(phase.startsWith);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await worker.stop('SIGKILL');
      kills.push(`${phase.name} +${delayMs} ms: ${lastLine(worker.lines)}`);
    }
    const roundsMs = Date.now() - started;

    // A last worker finishes what the kills left: every object imported, every row exported.
    const worker = t.spawn(project.dir, env);
    await worker.waitFor('worker started');
    const imported = await runCli(['datasource', 'sync', 'killed', '--wait'], { cwd: project.dir, env });
    expect(imported.code, imported.stderr).toBe(0);
    const exported = await runCli(['export', 'killed', '--wait'], { cwd: project.dir, env });
    expect(exported.code, exported.stderr).toBe(0);

    // The reads below are independent: each is a process of its own, and they run at once.
    const [[table], [recovery], listed, committed, inBucket, [written]] = await Promise.all([
      sqlRows<{ rows: number; distinct: number }>(project, env, 'SELECT count() AS rows, uniqExact(src, n) AS distinct FROM killed'),
      sqlRows<{ undone: number; aborted: number }>(
        project,
        env,
        "SELECT (SELECT count() FROM _bucketpipe_events WHERE event = 'import_undone') AS undone, (SELECT count() FROM _bucketpipe_exports FINAL WHERE status = 'aborted') AS aborted",
      ),
      t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: 'k-out/' })),
      sqlRows<{ key: string; rows: number }>(
        project,
        env,
        `SELECT f.key AS key, f.rows AS rows FROM _bucketpipe_export_files AS f FINAL
       WHERE f.datasource = 'killed' AND f.run_id IN (SELECT run_id FROM _bucketpipe_exports FINAL WHERE datasource = 'killed' AND status = 'done') ORDER BY key`,
      ),
      sqlRows<{ key: string; rows: number }>(
        project,
        env,
        `SELECT replaceOne(_path, '${t.bucket}/', '') AS key, count() AS rows FROM s3('${endpoint}/${t.bucket}/k-out/**.jsonl', '${S3_KEY}', '${S3_SECRET}', 'JSONEachRow', 'src String, n UInt32') GROUP BY key ORDER BY key`,
      ),
      sqlRows<{ rows: number; distinct: number }>(
        project,
        env,
        `SELECT count() AS rows, uniqExact(src, n) AS distinct FROM s3('${endpoint}/${t.bucket}/k-out/**.jsonl', '${S3_KEY}', '${S3_SECRET}', 'JSONEachRow', 'src String, n UInt32')`,
      ),
    ]);
    expect(table).toEqual({ rows: TOTAL, distinct: TOTAL });
    console.log(`${ROUNDS} rounds in ${roundsMs} ms; kills (phase, delay: the worker's last log line) ${JSON.stringify(kills)}; imports undone: ${recovery!.undone}, export runs aborted: ${recovery!.aborted}`);
    // The kills interrupted both imports and exports (each recovered by a later run).
    expect(recovery!.undone).toBeGreaterThan(0);
    expect(recovery!.aborted).toBeGreaterThan(0);

    // The bucket holds exactly the files of finished runs, each whole, and every row once.
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    expect(keys).toEqual(committed.map((f) => f.key));
    expect(inBucket).toEqual(committed);
    expect(written).toEqual({ rows: TOTAL, distinct: TOTAL });
  }, 480_000);
});

/** The worker's last log line about a run, when it was killed. */
function lastLine(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const kind = line.includes('"kind":"export"') ? 'export' : 'import';
    if (line.includes(' finished"')) return `${kind} finished`;
    const stage = /"stage":"([a-z]+)"/.exec(line)?.[1];
    if (stage) return `${kind} ${stage}`;
  }
  return 'none';
}
