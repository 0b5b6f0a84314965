import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import { openRunQueue, type RunJobData, type RunJobResult, type RunQueue } from './job-queue.js';
import { queuePrefix } from './queue-names.js';
import { assertRedisReachable, connectRedis, redisUrl } from './redis-connection.js';

/** The queue as a short command uses it. */
export interface QueueClient {
  queue: RunQueue;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

/**
 * Connects to the project's queue, failing with one clear sentence when Redis does not answer
 * (`why` says what it was needed for).
 */
export async function openQueueClient(app: App, why?: string): Promise<QueueClient> {
  const url = redisUrl(app.env);
  await assertRedisReachable(url, why);
  const redis = connectRedis(url, { longRunning: false });
  await redis.connect();
  const prefix = queuePrefix(app.projectDir, app.env);
  const queue = openRunQueue(redis, prefix);
  return {
    queue,
    redis,
    prefix,
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Worker processes connected to the queue now. */
export async function liveWorkers(queue: RunQueue): Promise<string[]> {
  const workers = (await queue.getWorkers()) as Array<{ rawname?: string; addr?: string }>;
  // BullMQ names a worker's connection `<prefix>:<queue>:w:<worker name>`; ours is host:pid.
  return workers.map((w) => w.rawname?.split(':w:')[1] || w.addr || 'worker');
}

export type FollowOutcome =
  | { state: 'completed'; result: RunJobResult }
  | { state: 'failed'; reason: string };

export interface FollowHooks {
  onProgress?: (progress: unknown) => void;
  /** Called once when the job waits and no worker is connected. */
  onNoWorker?: () => void;
}

/** Waits for a job to finish, reporting its progress. */
export async function followJob(queue: RunQueue, jobId: string, hooks: FollowHooks = {}): Promise<FollowOutcome> {
  let warned = false;
  let lastProgress = '';
  for (;;) {
    const job = await Job.fromId<RunJobData, RunJobResult>(queue, jobId);
    if (!job) return { state: 'failed', reason: `job ${jobId} is gone from the queue` };
    const state = await job.getState();
    // The job may have finished between the read above and this state: its result is read anew.
    if (state === 'completed') return { state: 'completed', result: (await Job.fromId<RunJobData, RunJobResult>(queue, jobId))!.returnvalue };
    if (state === 'failed') {
      const failed = (await Job.fromId<RunJobData, RunJobResult>(queue, jobId)) ?? job;
      return { state: 'failed', reason: failed.failedReason || failed.stacktrace?.at(-1)?.split('\n')[0] || 'the job failed without a recorded reason; see bucketpipe jobs' };
    }
    const progress = JSON.stringify(job.progress);
    if (progress !== lastProgress) {
      lastProgress = progress;
      hooks.onProgress?.(job.progress);
    }
    if (!warned && (state === 'waiting' || state === 'delayed' || state === 'prioritized') && (await liveWorkers(queue)).length === 0) {
      warned = true;
      hooks.onNoWorker?.();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
