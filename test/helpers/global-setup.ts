import type { TestProject } from 'vitest/node';
import { startLocalRedis } from '../../scripts/local-redis.js';
import { startS3Server } from './s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    redisUrl: string;
  }
}

/**
 * One S3-compatible server and one private Redis for the whole run; tests keep apart by their own
 * buckets and project folders (each project has its own queue prefix).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startS3Server();
  const redis = await startLocalRedis();
  project.provide('s3Endpoint', server.endpoint);
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
    await server.stop();
  };
}
