import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openApp, type App } from '../../src/app.js';
import { S3_KEY, S3_SECRET } from './s3-server.js';
import { createBucket } from './bucket.js';
import { createProjectDir, type TestProjectDir } from './project.js';

/**
 * The embedded engine takes one data directory per process, and each test file is a process:
 * every test of a file shares this directory and keeps apart by its own datasource names.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-data-'));

/** Set by useServerStore: the file's tables live on the test ClickHouse server, in a database of its own. */
let serverUrl: string | undefined;

export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    S3_ACCESS_KEY: S3_KEY,
    S3_SECRET,
    BUCKETPIPE_DATA_DIR: dataDir,
    // The run's own Redis: every run in a test takes its lease there, as runs do everywhere.
    REDIS_URL: inject('redisUrl'),
    ...(serverUrl ? { BUCKETPIPE_CLICKHOUSE_URL: serverUrl } : {}),
    ...extra,
  };
}

/**
 * Runs this file's suites against the test ClickHouse server instead of the embedded engine, in a
 * fresh database (the server is shared by every test file).
 */
export function useServerStore(): void {
  beforeAll(async () => {
    serverUrl = await freshServerDatabase();
  });
}

/** A new database on the test ClickHouse server (or another); returns the store URL that points at it. */
export async function freshServerDatabase(serverUrl: string = inject('clickhouseUrl')): Promise<string> {
  const base = new URL(serverUrl);
  const database = `bp_test_${Date.now().toString(36)}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const response = await fetch(`http://${base.host}/?query=${encodeURIComponent(`CREATE DATABASE ${database}`)}`, { method: 'POST' });
  if (!response.ok) throw new Error(`cannot create database ${database}: ${await response.text()}`);
  base.pathname = `/${database}`;
  return base.toString();
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
  return queryOn((await app.store()).client, sql, params);
}

/**
 * Rows of a query on the engine that reads objects: the store itself when embedded, the worker's own
 * engine with a server store (which may have no s3() of its own).
 */
export async function queryEngine<T = Record<string, unknown>>(app: App, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const anyImport = [...app.project.datasources.values()].find((d) => d.import);
  if (!anyImport) throw new Error('queryEngine needs a datasource with IMPORT_* settings in the project');
  return queryOn((await app.importContext(anyImport.name)).engine, sql, params);
}

async function queryOn<T>(client: ClickHouseClient, sql: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query: sql, format: 'JSON', query_params: params });
  const { meta, data } = (await result.json()) as { meta: Array<{ name: string; type: string }>; data: Array<Record<string, unknown>> };
  // Servers quote 64-bit integers in JSON; the embedded engine does not. Tests compare numbers.
  const wide = meta.filter((m) => /^(Nullable\()?U?Int64\)?$/.test(m.type)).map((m) => m.name);
  return data.map((row) => {
    for (const name of wide) if (typeof row[name] === 'string') row[name] = Number(row[name]);
    return row as T;
  });
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
