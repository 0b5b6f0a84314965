/**
 * `npm run bench`: generates the data (deterministic), starts a local S3 server, measures every figure
 * in fresh processes, prints the table and the ratios against baselines of the same run, and writes
 * bench/results.md. Settings: BENCH_ROWS (1000000), BENCH_REPS (3), BENCH_ONLY (import,small,discovery,
 * export,memory,server,cluster), BENCH_FRESH=1 to generate the data again, BENCH_ROW_FORMAT (the server
 * section's rows in this format instead of the probe's choice: TabSeparated measures the way before).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { S3_KEY, S3_SECRET, startS3Server } from '../scripts/local-s3-server.js';
import { startLocalRedis } from '../scripts/local-redis.js';
import { startLocalClickHouse } from '../scripts/local-clickhouse.js';
import type { RowFormat } from '../src/store/server-capabilities.js';
import { BUCKET, LARGE_FORMATS, largeKey, type LargeFormat } from './dataset.js';
import { generateData } from './generate.js';
import type { Task } from './measure.js';
import { median, type Measurement } from './measurement.js';
import { renderResults, type BenchResults, type ClusterImportRow, type LargeImportRow, type ServerImportRow } from './report.js';
import { REPLICATED_CLUSTER, startLocalCluster } from '../scripts/local-cluster.js';

quietNodeVersionNotice();
const here = dirname(fileURLToPath(import.meta.url));
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const reps = Number(process.env.BENCH_REPS ?? 3);
const ALL_SECTIONS = 'import,small,discovery,export,memory,server,cluster';
const only = new Set((process.env.BENCH_ONLY ?? ALL_SECTIONS).split(','));
const rowFormat = (process.env.BENCH_ROW_FORMAT || undefined) as RowFormat | undefined;
const smallFiles = Number(process.env.BENCH_SMALL_FILES ?? 2000);
const discoveryObjects = Number(process.env.BENCH_DISCOVERY_OBJECTS ?? 20_000);
const SMALL_ROWS = 100;
const BIG_SCALE = 3;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const dataDir = join(here, '.data', 's3');
if (process.env.BENCH_FRESH) rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const s3server = await startS3Server({ dir: dataDir });
const endpoint = s3server.endpoint;
// Every run takes its lease in Redis: a private one, inherited by the measuring processes.
const redis = await startLocalRedis();
process.env.REDIS_URL = redis.url;
try {
  await generateData({ endpoint, rows, scales: only.has('memory') ? [1, BIG_SCALE] : [1], smallFiles, smallRows: SMALL_ROWS, discoveryObjects, log });
  const results: BenchResults = { rows, reps, large: [], date: new Date().toISOString() };

  if (only.has('import')) {
    for (const format of LARGE_FORMATS) results.large.push(await measureLargeImport(format));
  }
  if (only.has('small')) {
    const runs: Measurement[] = [];
    for (let rep = 0; rep < reps; rep++) runs.push(await measure({ kind: 'small-files', args: { endpoint, files: smallFiles, rowsPerFile: SMALL_ROWS } }, `small files, rep ${rep + 1}`));
    results.small = { files: smallFiles, rowsPerFile: SMALL_ROWS, seconds: median(runs.map((r) => r.seconds)), maxRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)) };
  }
  if (only.has('discovery')) {
    const imported = discoveryObjects - 10;
    const m = await measure({ kind: 'discovery', args: { endpoint, objects: discoveryObjects, imported, reps: Math.max(reps, 5) } }, 'discovery');
    results.discovery = { objects: discoveryObjects, imported, discoverySeconds: m.seconds, listingSeconds: m.more!.listing! };
  }
  if (only.has('export')) {
    results.exports = [];
    for (const format of ['csv.gz', 'parquet'] as const) {
      const m = await measure({ kind: 'export', args: { endpoint, format, rows, reps } }, `export ${format}`);
      results.exports.push({ format, rows, seconds: m.seconds, engineSeconds: m.more!.engine!, maxRssBytes: m.maxRssBytes });
    }
  }
  if (only.has('memory')) {
    results.memory = [];
    for (const format of ['csv', 'parquet'] as const) {
      const peaks: number[] = [];
      for (const scale of [1, BIG_SCALE]) {
        const m = await measure({ kind: 'import-bucketpipe', args: { endpoint, format, scale, rows } }, `memory ${format} ${scale}x`);
        peaks.push(m.maxRssBytes);
      }
      results.memory.push({ format, scale: BIG_SCALE, baseRssBytes: peaks[0]!, bigRssBytes: peaks[1]! });
    }
  }
  if (only.has('server')) {
    const clickhouse = await startLocalClickHouse();
    try {
      const version = await (await fetch(`${new URL(clickhouse.url).origin}/?query=SELECT%20version()`)).text();
      results.server = { version: version.trim(), rowFormat: rowFormat ?? 'probe', imports: [], exports: [] };
      for (const format of ['csv', 'parquet'] as const) results.server.imports.push(await measureServerImport(format, clickhouse.url));
      for (const format of ['csv.gz', 'parquet'] as const) {
        const m = await measure({ kind: 'server-export', args: { endpoint, serverUrl: clickhouse.url, format, rows, reps, rowFormat } }, `server export ${format}`);
        results.server.exports.push({ format, rows, seconds: m.seconds, engineSeconds: m.more!.engine!, maxRssBytes: m.maxRssBytes });
      }
    } finally {
      await clickhouse.stop();
    }
  }
  if (only.has('cluster')) {
    const single = await startLocalClickHouse();
    const cluster = await startLocalCluster();
    try {
      const version = await (await fetch(`${new URL(single.url).origin}/?query=SELECT%20version()`)).text();
      results.cluster = { version: version.trim(), imports: [] };
      for (const format of ['csv', 'parquet'] as const) results.cluster.imports.push(await measureClusterImport(format, single.url, cluster.nodes[0]!.url));
    } finally {
      await cluster.stop();
      await single.stop();
    }
  }
  const text = renderResults(results);
  process.stdout.write(`${text}\n`);
  const full = ALL_SECTIONS.split(',').every((section) => only.has(section)) && !rowFormat;
  if (full && rows === 1_000_000) writeFileSync(join(here, 'results.md'), `${text}\n`);
} finally {
  await redis.stop();
  await s3server.stop();
}

async function measureLargeImport(format: LargeFormat): Promise<LargeImportRow> {
  const runs = { native: [] as Measurement[], bucketpipe: [] as Measurement[], naive: [] as Measurement[] };
  // Two of the three figures are ratios of about a second each: more runs, paired in time.
  for (let rep = 0; rep < Math.max(reps, 5); rep++) {
    // The order alternates, so that neither side always runs in the other's wake.
    const pair = rep % 2 === 0 ? (['native', 'bucketpipe'] as const) : (['bucketpipe', 'native'] as const);
    // The naive loader takes ten times as long, and its target has a wide margin: `reps` runs.
    const methods = format !== 'parquet' && rep < reps ? [...pair, 'naive' as const] : pair;
    for (const method of methods) {
      runs[method].push(await measure({ kind: `import-${method}`, args: { endpoint, format, scale: 1, rows } }, `import ${format} ${method}, rep ${rep + 1}`));
    }
  }
  const seconds = (list: Measurement[]) => median(list.map((r) => r.seconds));
  return {
    format,
    bytes: await objectSize(largeKey(format, 1)),
    rows,
    nativeSeconds: seconds(runs.native),
    bucketpipeSeconds: seconds(runs.bucketpipe),
    naiveSeconds: runs.naive.length > 0 ? seconds(runs.naive) : undefined,
    vsNative: pairedRatio(runs.native, runs.bucketpipe),
    vsNaive: runs.naive.length > 0 ? pairedRatio(runs.naive, runs.bucketpipe) : undefined,
    runs: runs.bucketpipe.length,
    maxRssBytes: Math.max(...runs.bucketpipe.map((r) => r.maxRssBytes)),
  };
}

/**
 * Runs two ways of the same step in pairs, alternating which goes first, so that neither always runs
 * in the other's wake: at least five pairs (their ratios are of about a second each).
 */
async function pairedRuns<W extends string>(ways: readonly [W, W], measureWay: (way: W, rep: number) => Promise<Measurement>): Promise<Record<W, Measurement[]>> {
  const runs = { [ways[0]]: [], [ways[1]]: [] } as unknown as Record<W, Measurement[]>;
  for (let rep = 0; rep < Math.max(reps, 5); rep++) {
    const pair = rep % 2 === 0 ? ways : ([ways[1], ways[0]] as const);
    for (const way of pair) runs[way].push(await measureWay(way, rep));
  }
  return runs;
}

/**
 * The median of each run's baseline time / measured time, with the baseline run next to it: a shared
 * machine's slow spells then weigh on both sides of a ratio, not on one side of the medians.
 */
function pairedRatio(baseline: readonly Measurement[], measured: readonly Measurement[]): number {
  return median(baseline.map((b, i) => b.seconds / measured[i]!.seconds));
}

/** bucketpipe's import into the server against the engine alone sending the same object to it, paired. */
async function measureServerImport(format: 'csv' | 'parquet', serverUrl: string): Promise<ServerImportRow> {
  const runs = await pairedRuns(['native', 'bucketpipe'] as const, (method, rep) =>
    measure({ kind: `server-import-${method}`, args: { endpoint, serverUrl, format, rows, rowFormat } }, `server import ${format} ${method}, rep ${rep + 1}`),
  );
  return {
    format,
    rows,
    nativeSeconds: median(runs.native.map((r) => r.seconds)),
    bucketpipeSeconds: median(runs.bucketpipe.map((r) => r.seconds)),
    vsNative: pairedRatio(runs.native, runs.bucketpipe),
    runs: runs.bucketpipe.length,
    maxRssBytes: Math.max(...runs.bucketpipe.map((r) => r.maxRssBytes)),
  };
}

/** bucketpipe's import into the cluster against the same import into a single server, paired. */
async function measureClusterImport(format: 'csv' | 'parquet', singleUrl: string, nodeUrl: string): Promise<ClusterImportRow> {
  const runs = await pairedRuns(['single', 'cluster'] as const, (where, rep) => {
    const args = where === 'single' ? { endpoint, serverUrl: singleUrl, format, rows } : { endpoint, serverUrl: nodeUrl, format, rows, cluster: REPLICATED_CLUSTER };
    return measure({ kind: 'server-import-bucketpipe', args }, `cluster import ${format} ${where}, rep ${rep + 1}`);
  });
  return {
    format,
    rows,
    singleSeconds: median(runs.single.map((r) => r.seconds)),
    clusterSeconds: median(runs.cluster.map((r) => r.seconds)),
    vsSingle: pairedRatio(runs.single, runs.cluster),
    runs: runs.cluster.length,
    maxRssBytes: Math.max(...runs.cluster.map((r) => r.maxRssBytes)),
  };
}

async function objectSize(key: string): Promise<number> {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength ?? 0;
  } finally {
    s3.destroy();
  }
}

/** Runs one task in a fresh process and returns what it measured. */
function measure(task: Task, label: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'measure.ts'), JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (process.env.BENCH_LOG) process.stderr.write(chunk);
    });
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`${label} failed (exit ${code}):\n${stderr.slice(-4000)}`));
      const measurement = JSON.parse(line.slice('RESULT '.length)) as Measurement;
      log(`${label}: ${measurement.seconds.toFixed(2)} s, peak RSS ${(measurement.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
      resolve(measurement);
    });
  });
}
