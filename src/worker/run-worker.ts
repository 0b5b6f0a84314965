import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import type { App } from '../app.js';
import { openRunQueue, syncSchedules, type RunJobData, type RunJobResult } from '../queue/job-queue.js';
import { autoIntervalMs, RUN_QUEUE, queuePrefix } from '../queue/queue-names.js';
import { assertRedisReachable, connectRedis, redisUrl, safeRedisUrl } from '../queue/redis-connection.js';
import type { Redis } from 'ioredis';
import { createJobProcessor } from './job-processor.js';

export interface RunningWorker {
  /** Stops taking jobs, lets the current object finish, and closes every connection. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  stopped: Promise<void>;
}

export interface WorkerOptions {
  /** Jobs run at the same time (different datasources). Default 1: the embedded engine serializes queries anyway. */
  concurrency?: number;
}

/**
 * A worker: takes import and export jobs from the project's queue. It keeps the project's schedules in Redis
 * (again after Redis comes back empty from a restart).
 */
export async function startWorker(app: App, options: WorkerOptions = {}): Promise<RunningWorker> {
  const url = redisUrl(app.env);
  const prefix = queuePrefix(app.projectDir, app.env);
  await assertRedisReachable(url);
  const redis = connectRedis(url, { longRunning: true });
  await redis.connect();
  reportConnectionChanges(app, redis, url);
  const queue = openRunQueue(redis, prefix);
  const everyMs = autoIntervalMs(app.env);
  // The schedules of the project as pushed (put back after Redis comes back empty).
  const resync = async () => {
    try {
      await syncSchedules(queue, (await app.runProject()).project, everyMs);
    } catch (error) {
      app.log.warn({ err: (error as Error).message }, 'could not update the schedules');
    }
  };
  await app.store();
  await resync();
  redis.on('ready', () => void resync());

  const abort = new AbortController();
  const worker = new Worker<RunJobData, RunJobResult>(RUN_QUEUE, createJobProcessor(app, { redis, prefix }, abort.signal), {
    connection: redis,
    prefix,
    concurrency: options.concurrency ?? 1,
    name: `${hostname()}:${process.pid}`,
    // A stalled job (its worker died) goes back to the queue; the ledger makes the retry safe.
    stalledInterval: 15_000,
    lockDuration: 60_000,
  });
  worker.on('failed', (job, error) => app.log.warn({ job: job?.id, datasource: job?.data.datasource }, error.message));
  worker.on('error', (error) => {
    // Connection trouble is reported once per outage by reportConnectionChanges.
    if (redis.status === 'ready') app.log.warn({ err: error.message }, 'worker error');
  });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      abort.abort();
      await worker.close();
      await queue.close();
      redis.disconnect();
      resolveStopped();
    })());
  return { stop, stopped };
}

/** One line when Redis goes away and one when it is back, instead of an error per retry. */
function reportConnectionChanges(app: App, redis: Redis, url: string): void {
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    app.log.error({ redis: safeRedisUrl(url), err: error.message }, 'lost the connection to Redis; reconnecting');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    app.log.info({ redis: safeRedisUrl(url) }, 'connected to Redis again');
  });
}
