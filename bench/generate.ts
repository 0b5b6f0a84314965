import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openLocalEngine } from '../src/store/local-engine.js';
import { runStatement, selectRows } from '../src/store/queries.js';
import { S3_KEY, S3_SECRET } from '../scripts/local-s3-server.js';
import { BUCKET, COLUMNS, DISCOVERY_PREFIX, LARGE_FORMATS, SMALL_PREFIX, engineFormat, largeKey, rowsQuery } from './dataset.js';

export interface GenerateOptions {
  endpoint: string;
  /** Rows of the 1× large files. */
  rows: number;
  scales: readonly number[];
  smallFiles: number;
  smallRows: number;
  discoveryObjects: number;
  log(message: string): void;
}

/** Writes every object the benchmark reads, unless a marker says this exact data set is there already. */
export async function generateData(options: GenerateOptions): Promise<void> {
  const s3 = new S3Client({
    endpoint: options.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
  });
  const marker = `.generated-v1-${options.rows}-${options.scales.join('_')}-${options.smallFiles}x${options.smallRows}-${options.discoveryObjects}`;
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: marker }));
    options.log('data: already generated');
    return;
  } catch {
    // Not there yet: generate below.
  }
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined);
  // Every data set writes the same keys: the markers of the others no longer tell the truth.
  const stale = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: '.generated-' }));
  for (const object of stale.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: object.Key! }));
  const engine = openLocalEngine();
  try {
    for (const scale of options.scales) {
      for (const format of LARGE_FORMATS) {
        const started = Date.now();
        const { format: engineName, compression } = engineFormat(format);
        await runStatement(
          engine.client,
          `INSERT INTO FUNCTION s3({url:String}, {key:String}, {secret:String}, {format:String}, {structure:String}, {compression:String}) ${rowsQuery(options.rows * scale)}`,
          {
            url: `${options.endpoint}/${BUCKET}/${largeKey(format, scale)}`,
            key: S3_KEY,
            secret: S3_SECRET,
            format: engineName,
            structure: COLUMNS.map((c) => `${c.name} ${c.type === 'DateTime64(3)' ? "DateTime64(3, 'UTC')" : c.type}`).join(', '),
            compression,
          },
          { s3_truncate_on_insert: 1, output_format_json_quote_64bit_integers: 0, output_format_parquet_compression_method: 'zstd' },
        );
        options.log(`data: ${largeKey(format, scale)} (${options.rows * scale} rows) in ${Date.now() - started} ms`);
      }
    }
    const csv = await selectRows<{ line: string }>(
      engine.client,
      `SELECT formatRow('CSV', ${COLUMNS.map((c) => c.name).join(', ')}) AS line FROM (${rowsQuery(options.smallFiles * options.smallRows)})`,
    );
    const header = COLUMNS.map((c) => c.name).join(',');
    await putMany(s3, options.smallFiles, (i) => ({
      key: `${SMALL_PREFIX}part-${String(i).padStart(5, '0')}.csv`,
      body: [header, ...csv.slice(i * options.smallRows, (i + 1) * options.smallRows).map((r) => r.line.trimEnd())].join('\n') + '\n',
    }));
    options.log(`data: ${options.smallFiles} small objects`);
    await putMany(s3, options.discoveryObjects, (i) => ({ key: `${DISCOVERY_PREFIX}d-${String(i).padStart(6, '0')}.csv`, body: `id\n${i}\n` }));
    options.log(`data: ${options.discoveryObjects} discovery objects`);
  } finally {
    await engine.close();
  }
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: marker, Body: 'ok' }));
}

/** Uploads `count` small objects, 32 at a time. */
async function putMany(s3: S3Client, count: number, object: (i: number) => { key: string; body: string }): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const { key, body } = object(next++);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
}
