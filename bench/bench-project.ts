import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App } from '../src/app.js';
import { createLogger } from '../src/log.js';
import { createStore, type Store } from '../src/store/create-store.js';
import { S3_KEY, S3_SECRET } from '../scripts/local-s3-server.js';
import { BUCKET, schemaBlock } from './dataset.js';

/** A project folder and data folder of one measurement, removed when it ends. */
export interface BenchProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  open(): Promise<App>;
  remove(): void;
}

/** The sorting key of every benchmark table, bucketpipe's and the baselines' alike. */
export const SORTING_KEY = 'ts';

/** A project with one connection (`bench`) and the given datasource files (name → text). */
export function benchProject(endpoint: string, datasources: Record<string, string>): BenchProject {
  const dir = mkdtempSync(join(tmpdir(), 'bucketpipe-bench-'));
  mkdirSync(join(dir, 'connections'));
  mkdirSync(join(dir, 'datasources'));
  writeFileSync(
    join(dir, 'connections', 'bench.connection'),
    ['TYPE s3', 'S3_REGION "us-east-1"', 'S3_ACCESS_KEY {{ tb_secret("S3_ACCESS_KEY") }}', 'S3_SECRET {{ tb_secret("S3_SECRET") }}', `S3_ENDPOINT "${endpoint}"`, 'S3_FORCE_PATH_STYLE true', ''].join('\n'),
  );
  for (const [name, text] of Object.entries(datasources)) writeFileSync(join(dir, 'datasources', `${name}.datasource`), text);
  const env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: join(dir, '.data') };
  return {
    dir,
    env,
    // BENCH_LOG=1: bucketpipe's debug log on stderr (which way each object loaded, and why).
    open: () => openApp({ projectDir: dir, env, role: 'worker', log: process.env.BENCH_LOG ? createLogger(process.env, 'debug') : undefined }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A datasource file: the benchmark's SCHEMA (or `schema`), importing `key` of the bench bucket, plus `more` settings. */
export function benchDatasource(keyGlob: string, more: string[] = [], schema = schemaBlock()): string {
  return [
    'SCHEMA >',
    schema,
    '',
    'ENGINE "MergeTree"',
    `ENGINE_SORTING_KEY "${SORTING_KEY}"`,
    '',
    'IMPORT_SERVICE s3',
    'IMPORT_CONNECTION_NAME bench',
    `IMPORT_BUCKET_URI s3://${BUCKET}/${keyGlob}`,
    'IMPORT_SCHEDULE @on-demand',
    'IMPORT_STRATEGY APPEND',
    ...more,
    '',
  ].join('\n');
}

/** The embedded store alone, in a data folder of its own, for the baselines. */
export async function bareStore(): Promise<{ store: Store; remove(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bucketpipe-bench-store-'));
  const store = await createStore({ dataDir: join(dir, 'data'), role: 'worker' });
  return {
    store,
    remove: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
