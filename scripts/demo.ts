/**
 * The Quick start's main job on embedded defaults: a local S3-compatible server seeded with sample
 * objects, the example project in datasources/ and connections/ pushed, a first @auto run (at most
 * 5 objects per datasource) and an on-demand sync of the rest, then what landed where.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openApp, type App } from '../src/app.js';
import { syncDatasource, type ImportReport } from '../src/importer/sync-datasource.js';
import { pushProject } from '../src/push/push-project.js';
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { S3_KEY, S3_SECRET, startS3Server } from './local-s3-server.js';
import { sampleObjects } from './demo-samples.js';

quietNodeVersionNotice();
const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUCKET = 'demo-bucket';

async function main(): Promise<void> {
  const server = await startS3Server();
  const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-demo-'));
  const env = { ...process.env, S3_ENDPOINT: server.endpoint, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir };
  let app: App | undefined;
  try {
    say(`Local S3-compatible server at ${server.endpoint}; store: embedded engine in ${dataDir}`);
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

    app = await openApp({ projectDir, env });
    const client = (await app.store()).client;
    await client.command({
      query: `INSERT INTO FUNCTION s3({url:String}, {key:String}, {secret:String}, 'Parquet')
              SELECT number + 1 AS trip_id, toDateTime64('2026-11-01 08:00:00', 3) + number * 600 AS started_at,
                     round(1 + (number * 37 % 200) / 10, 2) AS distance_km,
                     arrayMap(i -> concat('stop-', toString(i)), range(number % 4)) AS stops,
                     if(number % 5 = 0, NULL, toUInt8(number % 5 + 1)) AS rating
              FROM numbers(2000)`,
      query_params: { url: `${server.endpoint}/${BUCKET}/trips/trips-2026-11.parquet`, key: S3_KEY, secret: S3_SECRET },
    });
    say(`Wrote s3://${BUCKET}/trips/trips-2026-11.parquet (2,000 rows) with the engine`);

    heading('bucketpipe push');
    const pushed = await pushProject(app, { dryRun: false });
    for (const step of pushed.steps) say(`  ${step.description}`);

    heading('First @auto run (at most 5 objects per datasource)');
    for (const spec of app.project.datasources.values()) {
      if (spec.import?.schedule !== '@auto') continue;
      printReport(await syncDatasource(await app.importContext(spec.name), { trigger: 'auto' }));
    }
    heading('On-demand sync of everything that is left (bucketpipe datasource sync NAME)');
    for (const spec of app.project.datasources.values()) {
      if (!spec.import) continue;
      printReport(await syncDatasource(await app.importContext(spec.name), { trigger: 'on-demand' }));
    }

    heading('Rows per table');
    await printQuery(app, `SELECT 'events' AS table, count() AS rows FROM events UNION ALL SELECT 'orders', count() FROM orders UNION ALL SELECT 'trips', count() FROM trips
                           UNION ALL SELECT 'events_quarantine', count() FROM events_quarantine UNION ALL SELECT 'orders_quarantine', count() FROM orders_quarantine`);
    heading('A few orders (columns inferred from the oldest file; coupon came with a later file)');
    await printQuery(app, 'SELECT * FROM orders ORDER BY order_id LIMIT 5');
    heading('Quarantined rows and why');
    await printQuery(app, `SELECT * FROM (SELECT c__source AS object, c__row AS row, c__error AS reasons, c__raw AS raw_text FROM orders_quarantine
                           UNION ALL SELECT c__source, c__row, c__error, c__raw FROM events_quarantine) ORDER BY object, row`);
    heading('Ops log (bucketpipe jobs)');
    await printQuery(app, `SELECT datasource, trigger, status, objects, rows, quarantined FROM _bucketpipe_jobs FINAL ORDER BY started_at`);
    await printQuery(app, `SELECT datasource, event, message FROM _bucketpipe_events WHERE event IN ('columns_added', 'object_failed') ORDER BY time`);
  } finally {
    await app?.close();
    await server.stop();
    if (!process.env.BUCKETPIPE_DEMO_KEEP) rmSync(dataDir, { recursive: true, force: true });
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
