import type { TestProject } from 'vitest/node';
import { startLocalClickHouse } from '../../scripts/local-clickhouse.js';
import { startLocalRedis } from '../../scripts/local-redis.js';
import { startS3Server } from './s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    redisUrl: string;
    clickhouseUrl: string;
  }
}

/**
 * One S3-compatible server, one private Redis and one private ClickHouse server for the whole run;
 * tests keep apart by their own buckets, project folders (each with its own queue prefix) and table
 * names. A missing service fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startS3Server();
  const redis = await startLocalRedis();
  const clickhouse = await startLocalClickHouse();
  project.provide('s3Endpoint', server.endpoint);
  project.provide('redisUrl', redis.url);
  project.provide('clickhouseUrl', clickhouse.url);
  return async () => {
    await clickhouse.stop();
    await redis.stop();
    await server.stop();
  };
}
