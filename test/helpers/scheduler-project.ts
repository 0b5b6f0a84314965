import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { createBucket, s3Client } from './bucket.js';
import { spawnWorker, type WorkerProcess } from './worker.js';
import { runCli } from './cli.js';
import { createProjectDir, type TestProjectDir } from './project.js';
import { S3_KEY, S3_SECRET } from './s3-server.js';

export const SRC_N_SCHEMA = '    `src` String,\n    `n` UInt32';

/** A CSV object whose rows say where they came from: `src,n` with n = 0..rows-1. */
export function srcCsv(src: string, rows: number): string {
  return ['src,n', ...Array.from({ length: rows }, (_, i) => `${src},${i}`)].join('\n') + '\n';
}

/** A project with its own store (data directory) and queue prefix, for tests that run processes. */
export function newProcessProject(cleanups: Array<() => unknown>, extraEnv: Record<string, string> = {}): { project: TestProjectDir; env: NodeJS.ProcessEnv } {
  const project = createProjectDir(inject('s3Endpoint'));
  const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-proc-'));
  cleanups.push(() => project.remove(), () => rmSync(dataDir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    S3_ACCESS_KEY: S3_KEY,
    S3_SECRET,
    BUCKETPIPE_DATA_DIR: dataDir,
    REDIS_URL: inject('redisUrl'),
    BUCKETPIPE_AUTO_INTERVAL_MS: '1500',
    ...extraEnv,
  };
  return { project, env };
}

/** Rows of a query through the CLI (which reaches the store held by a running worker). */
export async function sqlRows<T>(project: TestProjectDir, env: NodeJS.ProcessEnv, query: string): Promise<T[]> {
  const result = await runCli(['sql', query, '--format', 'JSONEachRow'], { cwd: project.dir, env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim() === '' ? [] : result.stdout.trim().split('\n').map((line) => JSON.parse(line) as T);
}

/**
 * Polls until `done` holds, failing with the last value seen. The pause between reads starts short
 * and doubles up to half a second: most conditions hold within a few tens of milliseconds, and a
 * fixed half-second pause made every wait last at least that long.
 */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

export interface JobRow {
  job_id: string;
  datasource: string;
  trigger: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  objects: number;
  rows: number;
}

/** A test's own context (`it.concurrent('…', async ({ onTestFinished }) => …)`): its end is its own. */
export interface TestOwner {
  onTestFinished(fn: () => unknown): void;
}

/** What a describe block whose tests run bucketpipe processes shares. */
export interface ProcessTests {
  s3: S3Client;
  /** The block's bucket, created before its tests. */
  readonly bucket: string;
  /** Run after the block, last first. */
  cleanups: Array<() => unknown>;
  /** A project with its own store and queue prefix, removed after the block. */
  newProject(extraEnv?: Record<string, string>): { project: TestProjectDir; env: NodeJS.ProcessEnv };
  /**
   * A `bucketpipe worker` (or `dev`) process, killed after its test. Concurrent tests pass their
   * context as `owner`: the block's afterEach would kill the workers of every test still running.
   */
  spawn(dir: string, env: NodeJS.ProcessEnv, args?: string[], owner?: TestOwner): WorkerProcess;
}

/** Registers the block's hooks: a bucket before, processes killed after each test, cleanups after. */
export function useProcessTests(): ProcessTests {
  const running: WorkerProcess[] = [];
  const cleanups: Array<() => unknown> = [];
  let bucket: string | undefined;
  const s3 = s3Client(inject('s3Endpoint'));
  beforeAll(async () => {
    bucket = await createBucket(s3);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((w) => w.stop('SIGKILL')));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return {
    s3,
    get bucket() {
      if (!bucket) throw new Error('the bucket is created before the tests run');
      return bucket;
    },
    cleanups,
    newProject: (extraEnv = {}) => newProcessProject(cleanups, extraEnv),
    spawn(dir, env, args, owner) {
      const w = spawnWorker(dir, env, args);
      if (owner) owner.onTestFinished(() => w.stop('SIGKILL'));
      else running.push(w);
      return w;
    },
  };
}
