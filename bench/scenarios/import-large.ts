import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse';
import type { ClickHouseClient } from '@clickhouse/client';
import { pushProject } from '../../src/push/push-project.js';
import { timedImport } from '../bench-runs.js';
import { runStatement, selectRows } from '../../src/store/queries.js';
import { S3_KEY, S3_SECRET } from '../../scripts/local-s3-server.js';
import { BUCKET, COLUMNS, columnsDdl, engineFormat, largeKey, type LargeFormat } from '../dataset.js';
import { bareStore, benchDatasource, benchProject, SORTING_KEY } from '../bench-project.js';
import { check, peakRss, timed, type Measurement } from '../measurement.js';

export interface LargeImportArgs {
  endpoint: string;
  format: LargeFormat;
  scale: number;
  rows: number;
}

/**
 * bucketpipe end to end: `datasource sync` of one large object (discovery, ledger, casts, split, ops
 * log), after `push` has created the tables, as a user runs them. Every method is timed from an
 * existing empty table.
 */
export async function importWithBucketpipe(args: LargeImportArgs): Promise<Measurement> {
  const project = benchProject(args.endpoint, { imp: benchDatasource(largeKey(args.format, args.scale)) });
  const app = await project.open();
  try {
    const store = await app.store();
    await pushProject(app, { dryRun: false });
    const { seconds, rows } = await timedImport(app, 'imp');
    await expectRows(store.client, 'imp', args.rows * args.scale);
    return { seconds, count: rows, maxRssBytes: peakRss() };
  } finally {
    await app.close();
    project.remove();
  }
}

/** The engine's own limit: `INSERT INTO t SELECT * FROM s3(…)` into a table of the same shape. */
export async function importNatively(args: LargeImportArgs): Promise<Measurement> {
  const bare = await bareStore();
  try {
    const client = bare.store.client;
    const { format, compression } = engineFormat(args.format);
    await createTable(client, 'native');
    const seconds = await timed(async () => {
      await runStatement(
        client,
        "INSERT INTO native SELECT * FROM s3({url:String}, {key:String}, {secret:String}, {format:String}, 'auto', {compression:String})",
        { url: `${args.endpoint}/${BUCKET}/${largeKey(args.format, args.scale)}`, key: S3_KEY, secret: S3_SECRET, format, compression },
      );
    });
    const rows = await expectRows(client, 'native', args.rows * args.scale);
    return { seconds, count: rows, maxRssBytes: peakRss() };
  } finally {
    await bare.remove();
  }
}

/** What a first attempt in Node would do: read the object, parse rows in JavaScript, insert JSONEachRow batches. */
export async function importNaively(args: LargeImportArgs): Promise<Measurement> {
  if (args.format === 'parquet') throw new Error('the naive baseline reads CSV and NDJSON only');
  const bare = await bareStore();
  const s3 = new S3Client({ endpoint: args.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
  try {
    const client = bare.store.client;
    await createTable(client, 'naive');
    const seconds = await timed(async () => {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: largeKey(args.format, args.scale) }));
      const body = object.Body as Readable;
      const records = args.format === 'csv' ? body.pipe(parse({ columns: true })) : jsonLines(body.pipe(createGunzip()));
      let batch: Record<string, unknown>[] = [];
      for await (const record of records as AsyncIterable<Record<string, unknown>>) {
        batch.push(typed(record));
        if (batch.length === 50_000) {
          await client.insert({ table: 'naive', values: batch, format: 'JSONEachRow' });
          batch = [];
        }
      }
      if (batch.length > 0) await client.insert({ table: 'naive', values: batch, format: 'JSONEachRow' });
    });
    const rows = await expectRows(client, 'naive', args.rows * args.scale);
    return { seconds, count: rows, maxRssBytes: peakRss() };
  } finally {
    s3.destroy();
    await bare.remove();
  }
}

async function* jsonLines(text: Readable): AsyncGenerator<Record<string, unknown>> {
  for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
    if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
  }
}

const NUMERIC = new Set(COLUMNS.filter((c) => /Int|Float/.test(c.type)).map((c) => c.name));

/** CSV fields are text: numbers become numbers, as a hand-written loader would do. */
function typed(record: Record<string, unknown>): Record<string, unknown> {
  for (const name of NUMERIC) if (typeof record[name] === 'string') record[name] = Number(record[name]);
  return record;
}

async function createTable(client: ClickHouseClient, name: string): Promise<void> {
  await runStatement(client, `CREATE TABLE \`${name}\` (${columnsDdl()}) ENGINE = MergeTree ORDER BY ${SORTING_KEY}`);
}

async function expectRows(client: ClickHouseClient, table: string, expected: number): Promise<number> {
  const [row] = await selectRows<{ n: string; ids: string }>(client, `SELECT count() AS n, uniqExact(id) AS ids FROM ${table}`);
  check(Number(row!.n) === expected && Number(row!.ids) === expected, `${table} holds ${row!.n} rows (${row!.ids} ids), not ${expected}`);
  return expected;
}
