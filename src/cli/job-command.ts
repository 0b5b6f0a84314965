import type { App } from '../app.js';
import type { RunJobData, RunJobResult } from '../queue/job-queue.js';
import { enqueueRun } from '../queue/job-queue.js';
import { followJob, liveWorkers, openQueueClient, type QueueClient } from '../queue/queue-client.js';
import type { Output } from './output.js';

/** How `datasource sync` and `export` differ; everything else about queuing and waiting is shared. */
export interface JobCommand<R> {
  data: RunJobData;
  wait: boolean;
  /** `importing`, `exporting`: for the notes. */
  doing: string;
  /** Turns a job's progress record into a progress line, if it is one. */
  progressLine?: (progress: unknown) => string | undefined;
  /** Runs the job in this process (with --wait, when no worker runs), holding the run's lease. */
  runHere: (queue: QueueClient) => Promise<R>;
  /** Prints the report and returns the exit code. */
  print: (report: R) => number;
}

/**
 * Without --wait: queue the job, print its id (and a note when no worker runs). With --wait: follow
 * the job with a progress line when a worker runs, else run it here and say so. Never a silent hang.
 * Either way Redis is needed: a run here takes the same lease as the workers' runs, and without it
 * the two could load the same objects side by side.
 */
export async function runJobCommand<R>(app: App, output: Output, command: JobCommand<R>): Promise<number> {
  let queue: QueueClient | undefined;
  try {
    queue = await openQueueClient(app, command.wait ? `${command.doing} in this process also needs the run's lease there, so that it never overlaps a worker's run` : undefined);
    if (!command.wait) {
      const jobId = await enqueueRun(queue.queue, command.data);
      const workers = await liveWorkers(queue.queue);
      output.result({ jobId, workers: workers.length });
      output.line(`queued job ${jobId}`);
      if (workers.length === 0) process.stderr.write('note: no worker is running; the job runs when one starts (bucketpipe worker, or bucketpipe dev).\n');
      return 0;
    }
    if ((await liveWorkers(queue.queue)).length > 0) {
      const jobId = await enqueueRun(queue.queue, command.data);
      output.line(`queued job ${jobId}; waiting for it`);
      const outcome = await followJob(queue.queue, jobId, {
        onProgress: (p) => {
          const line = command.progressLine?.(p);
          if (line) output.progress(line);
        },
        onNoWorker: () => process.stderr.write('note: no worker is running now; the job waits for one (bucketpipe worker).\n'),
      });
      output.endProgress();
      if (outcome.state === 'failed') {
        output.result({ jobId, status: 'failed', error: outcome.reason });
        process.stderr.write(`error: job ${jobId} failed: ${outcome.reason}\n`);
        return 1;
      }
      if ('skipped' in outcome.result) return 0;
      return command.print(outcome.result as unknown as R);
    }
    process.stderr.write(`note: no worker is running; ${command.doing} in this process.\n`);
    const report = await command.runHere(queue);
    output.endProgress();
    return command.print(report);
  } finally {
    await queue?.close();
  }
}

/** The job's result when it is a report (not a skipped tick). */
export function isReport(result: RunJobResult): boolean {
  return !('skipped' in result);
}
