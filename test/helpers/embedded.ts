import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, inject } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { selectRows } from '../../src/store/queries.js';
import { S3_KEY, S3_SECRET } from './s3-server.js';
import { createBucket } from './bucket.js';
import { createProjectDir, type TestProjectDir } from './project.js';

/**
 * The embedded engine takes one data directory per process, and each test file is a process:
 * every test of a file shares this directory and keeps apart by its own datasource names.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-data-'));

export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir, ...extra };
}

export function s3Endpoint(): string {
  return inject('s3Endpoint');
}

let current: App | undefined;

/** Opens the project on the file's shared store. The previous app of this file is closed first. */
export async function openTestApp(projectDir: string, env: Record<string, string> = {}): Promise<App> {
  await current?.close();
  current = await openApp({ projectDir, env: testEnv(env) });
  return current;
}

export async function closeTestApp(): Promise<void> {
  await current?.close();
  current = undefined;
}

/** Rows of a query on the app's store. */
export async function query<T = Record<string, unknown>>(app: App, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return selectRows<T>((await app.store()).client, sql, params);
}

/**
 * A fresh bucket and project folder for a describe block (created before its tests, the project
 * removed and the app closed after); `assign` hands them to the block's variables.
 */
export function withBucketAndProject(s3: S3Client, assign: (bucket: string, project: TestProjectDir) => void): void {
  let project: TestProjectDir | undefined;
  beforeAll(async () => {
    project = createProjectDir(s3Endpoint());
    assign(await createBucket(s3), project);
  });
  afterAll(async () => {
    await closeTestApp();
    project?.remove();
  });
}
