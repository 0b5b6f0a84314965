/**
 * The Quick start's main job on embedded defaults: a local S3-compatible server seeded with sample
 * objects, the example project in datasources/ and connections/ pushed, a worker that runs the first
 * @auto run of each datasource (at most 5 objects) and then on-demand syncs of the rest, and what
 * landed where. Redis comes from REDIS_URL, or a private redis-server for the length of the demo.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { openApp, type App } from '../src/app.js';
import { toErrorReport } from '../src/errors.js';
import type { ImportReport } from '../src/importer/sync-datasource.js';
import { listJobs, type JobRow } from '../src/ops/ops-log.js';
import { pushProject } from '../src/push/push-project.js';
import { enqueueRun, syncSchedules } from '../src/queue/job-queue.js';
import { followJob, openQueueClient, type QueueClient } from '../src/queue/queue-client.js';
import { autoIntervalMs } from '../src/queue/queue-names.js';
import { assertRedisReachable, redisUrl, safeRedisUrl } from '../src/queue/redis-connection.js';
import { startWorker, type RunningWorker } from '../src/worker/run-worker.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { S3_KEY, S3_SECRET, startS3Server } from './local-s3-server.js';
import { sampleObjects } from './demo-samples.js';

quietNodeVersionNotice();
const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUCKET = 'demo-bucket';

async function main(): Promise<void> {
  const server = await startS3Server();
  const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-demo-'));
  let redis: LocalRedis | undefined;
  let app: App | undefined;
  let queue: QueueClient | undefined;
  let worker: RunningWorker | undefined;
  try {
    const redisAt = await findRedis();
    redis = redisAt.started;
    const env = {
      ...process.env,
      S3_ENDPOINT: server.endpoint,
      S3_ACCESS_KEY: S3_KEY,
      S3_SECRET,
      BUCKETPIPE_DATA_DIR: dataDir,
      REDIS_URL: redisAt.url,
      // A queue of its own, so a shared Redis keeps no schedule of an earlier demo.
      BUCKETPIPE_PROJECT_ID: `demo-${randomBytes(4).toString('hex')}`,
      // @auto runs every minute; the demo does not want to wait that long.
      BUCKETPIPE_AUTO_INTERVAL_MS: process.env.BUCKETPIPE_AUTO_INTERVAL_MS ?? '3000',
    };
    say(`Local S3-compatible server at ${server.endpoint}; Redis at ${safeRedisUrl(redisAt.url)}${redis ? ' (private, for this demo)' : ''}`);
    say(`Store: embedded engine in ${dataDir}`);
    const s3 = new S3Client({
      region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const samples = sampleObjects();
    for (const [key, body] of Object.entries(samples)) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key.endsWith('.gz') ? gzipSync(body) : body }));
    }
    say(`Seeded s3://${BUCKET} with ${Object.keys(samples).length} CSV and NDJSON objects`);

    app = await openApp({ projectDir, env, role: 'dev' });
    const client = (await app.store()).client;
    for (const [part, first] of [[1, 0], [2, 1500]] as const) {
      await client.command({
        query: `INSERT INTO FUNCTION s3({url:String}, {key:String}, {secret:String}, 'Parquet')
                SELECT {first:UInt32} + number + 1 AS trip_id, toDateTime64('2026-11-01 08:00:00', 3) + ({first:UInt32} + number) * 600 AS started_at,
                       round(1 + (number * 37 % 200) / 10, 2) AS distance_km,
                       arrayMap(i -> concat('stop-', toString(i)), range(number % 4)) AS stops,
                       if(number % 5 = 0, NULL, toUInt8(number % 5 + 1)) AS rating
                FROM numbers(1500)`,
        query_params: { url: `${server.endpoint}/${BUCKET}/trips/trips-2026-11-part-${part}.parquet`, key: S3_KEY, secret: S3_SECRET, first },
      });
    }
    say(`Wrote two Parquet objects under s3://${BUCKET}/trips/ (3,000 rows) with the engine`);

    heading('bucketpipe push');
    queue = await openQueueClient(app);
    const pushed = await pushProject(app, { dryRun: false });
    for (const step of pushed.steps) say(`  ${step.description}`);
    for (const change of await syncSchedules(queue.queue, app.project, autoIntervalMs(app.env))) say(`  ${change.description}`);

    heading('bucketpipe worker: the first @auto run of each datasource (at most 5 objects)');
    worker = await startWorker(app);
    const auto = [...app.project.datasources.values()].filter((d) => d.import?.schedule === '@auto').map((d) => d.name);
    for (const job of await firstAutoRuns(app, auto)) {
      say(`  ${job.datasource}: ${job.status}, ${job.objects} objects, ${job.rows} rows, ${job.quarantined} quarantined (job ${job.job_id})`);
    }

    heading('bucketpipe datasource sync NAME --wait: on-demand syncs of everything left');
    for (const spec of app.project.datasources.values()) {
      if (!spec.import) continue;
      const jobId = await enqueueRun(queue.queue, { datasource: spec.name, trigger: 'on-demand' });
      const outcome = await followJob(queue.queue, jobId);
      if (outcome.state === 'failed') say(`  ${spec.name}: failed: ${outcome.reason}`);
      else if ('objects' in outcome.result) printReport(outcome.result);
      else say(`  ${spec.name}: skipped (busy)`);
    }

    heading('bucketpipe export orders --wait: the new rows of orders as Parquet, 100 rows per file');
    const exportJob = await enqueueRun(queue.queue, { datasource: 'orders', kind: 'export', trigger: 'on-demand' });
    const exported = await followJob(queue.queue, exportJob);
    if (exported.state === 'failed') say(`  failed: ${exported.reason}`);
    else if ('files' in exported.result) for (const f of exported.result.files) say(`  ${f.uri}: ${f.rows} rows, ${f.bytes} bytes`);
    await worker.stop();
    worker = undefined;

    heading('Rows per table');
    await printQuery(app, `SELECT 'events' AS table, count() AS rows FROM events UNION ALL SELECT 'orders', count() FROM orders UNION ALL SELECT 'trips', count() FROM trips
                           UNION ALL SELECT 'events_quarantine', count() FROM events_quarantine UNION ALL SELECT 'orders_quarantine', count() FROM orders_quarantine`);
    heading('A few orders (columns inferred from the oldest file; coupon came with a later file)');
    await printQuery(app, 'SELECT * FROM orders ORDER BY order_id DESC LIMIT 5');
    heading('Quarantined rows and why');
    await printQuery(app, `SELECT * FROM (SELECT c__source AS object, c__row AS row, c__error AS reasons, c__raw AS raw_text FROM orders_quarantine
                           UNION ALL SELECT c__source, c__row, c__error, c__raw FROM events_quarantine) ORDER BY object, row`);
    heading('Ops log (bucketpipe jobs): runs that moved something');
    await printQuery(app, `SELECT datasource, kind, trigger, status, objects, rows, quarantined FROM _bucketpipe_jobs FINAL WHERE objects > 0 ORDER BY started_at`);
    await printQuery(app, `SELECT datasource, event, message FROM _bucketpipe_events WHERE event IN ('columns_added', 'object_failed') ORDER BY time`);
  } finally {
    await worker?.stop();
    await queue?.close();
    await app?.close();
    await redis?.stop();
    await server.stop();
    if (!process.env.BUCKETPIPE_DEMO_KEEP) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** REDIS_URL when it answers; else a private redis-server when one is installed; else how to get Redis. */
async function findRedis(): Promise<{ url: string; started?: LocalRedis }> {
  const url = redisUrl();
  try {
    await assertRedisReachable(url);
    return { url };
  } catch (error) {
    try {
      const started = await startLocalRedis();
      return { url: started.url, started };
    } catch {
      throw new Error(`${toErrorReport(error).message} No redis-server was found on PATH either: install Redis (apt-get install redis-server, brew install redis) or run it with docker run -p 6379:6379 redis.`);
    }
  }
}

/** Waits until each @auto datasource has had a run that imported something, and returns those runs. */
async function firstAutoRuns(app: App, datasources: string[]): Promise<JobRow[]> {
  const client = (await app.store()).client;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const jobs = await listJobs(client, undefined, 1000);
    const firsts = datasources.map((name) =>
      jobs.filter((j) => j.datasource === name && j.trigger === 'auto' && j.status !== 'running' && j.objects > 0).at(-1),
    );
    if (firsts.every((j): j is JobRow => j !== undefined)) return firsts;
    if (Date.now() > deadline) throw new Error('the first @auto runs did not happen within two minutes');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function printReport(report: ImportReport): void {
  say(`  ${report.datasource}: ${report.status}, ${report.objects.length} objects, ${report.rows} rows, ${report.quarantined} quarantined` +
    (report.deferred ? `, ${report.deferred} left for the next run` : ''));
  for (const o of report.objects.filter((x) => x.status === 'failed')) say(`    failed: ${o.error?.message}`);
}

async function printQuery(app: App, query: string): Promise<void> {
  const result = await (await app.store()).client.exec({ query: `${query}\nFORMAT PrettyCompactMonoBlock` });
  for await (const chunk of result.stream) process.stdout.write(chunk as Buffer);
}

function say(text: string): void {
  process.stdout.write(text + '\n');
}

function heading(text: string): void {
  say(`\n== ${text}`);
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
