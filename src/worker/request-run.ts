import type { App } from '../app.js';
import { enqueueRun, type RunJobData } from '../queue/job-queue.js';
import { followJob, liveWorkers, openQueueClient, type QueueClient } from '../queue/queue-client.js';

/** A run asked for on demand (`datasource sync`, `export`); the two differ only in these fields. */
export interface RunRequest<R> {
  data: RunJobData;
  /** Follow the run to its end; else only queue it. */
  wait: boolean;
  /** `importing`, `exporting`: says what Redis is needed for. */
  doing: string;
  /** Runs the job in this process (with wait, when no worker runs), holding the run's lease. */
  runHere: (queue: QueueClient) => Promise<R>;
}

/** How a request ended: queued for the workers, or (with wait) its report, a skip or a failure. */
export type RunOutcome<R> =
  | { state: 'queued'; jobId: string; workers: number }
  | { state: 'done'; report: R }
  | { state: 'skipped'; jobId: string }
  | { state: 'failed'; jobId: string; reason: string };

/** Told while a request with wait goes on, so that it is never a silent hang. */
export interface RunHooks {
  /** The job is queued for the running workers and followed from now. */
  onFollow?: (jobId: string) => void;
  /** The followed job's progress record changed. */
  onProgress?: (progress: unknown) => void;
  /** Once, when the followed job waits and no worker is connected. */
  onNoWorker?: () => void;
  /** No worker runs, so the run starts in this process. */
  onRunHere?: () => void;
}

/**
 * Without wait: queue the job. With wait: follow the job when a worker runs, else run it here.
 * Either way Redis is needed: a run here takes the same lease as the workers' runs, and without it
 * the two could load the same objects side by side.
 */
export async function requestRun<R>(app: App, request: RunRequest<R>, hooks: RunHooks = {}): Promise<RunOutcome<R>> {
  let queue: QueueClient | undefined;
  try {
    queue = await openQueueClient(app, request.wait ? `${request.doing} in this process also needs the run's lease there, so that it never overlaps a worker's run` : undefined);
    if (!request.wait) {
      const jobId = await enqueueRun(queue.queue, request.data);
      const workers = await liveWorkers(queue.queue);
      return { state: 'queued', jobId, workers: workers.length };
    }
    if ((await liveWorkers(queue.queue)).length > 0) {
      const jobId = await enqueueRun(queue.queue, request.data);
      hooks.onFollow?.(jobId);
      const outcome = await followJob(queue.queue, jobId, { onProgress: hooks.onProgress, onNoWorker: hooks.onNoWorker });
      if (outcome.state === 'failed') return { state: 'failed', jobId, reason: outcome.reason };
      if ('skipped' in outcome.result) return { state: 'skipped', jobId };
      return { state: 'done', report: outcome.result as unknown as R };
    }
    hooks.onRunHere?.();
    return { state: 'done', report: await request.runHere(queue) };
  } finally {
    await queue?.close();
  }
}
