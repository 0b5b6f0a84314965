import type { App } from '../app.js';
import { requestRun, type RunRequest } from '../worker/request-run.js';
import type { Output } from './output.js';

/** How `datasource sync` and `export` print; everything else about queuing and waiting is shared. */
export interface JobPrinter<R> {
  /** Turns a job's progress record into a progress line, if it is one. */
  progressLine?: (progress: unknown) => string | undefined;
  /** Prints the report and returns the exit code. */
  print: (report: R) => number;
}

/** Asks for the run, prints notes as it goes (never a silent hang) and how it ended; returns the exit code. */
export async function runJobCommand<R>(app: App, output: Output, request: RunRequest<R>, printer: JobPrinter<R>): Promise<number> {
  const outcome = await requestRun(app, request, {
    onFollow: (jobId) => output.line(`queued job ${jobId}; waiting for it`),
    onProgress: (p) => {
      const line = printer.progressLine?.(p);
      if (line) output.progress(line);
    },
    onNoWorker: () => process.stderr.write('note: no worker is running now; the job waits for one (bucketpipe worker).\n'),
    onRunHere: () => process.stderr.write(`note: no worker is running; ${request.doing} in this process.\n`),
  });
  if (outcome.state === 'queued') {
    output.result({ jobId: outcome.jobId, workers: outcome.workers });
    output.line(`queued job ${outcome.jobId}`);
    if (outcome.workers === 0) process.stderr.write('note: no worker is running; the job runs when one starts (bucketpipe worker, or bucketpipe dev).\n');
    return 0;
  }
  output.endProgress();
  if (outcome.state === 'failed') {
    output.result({ jobId: outcome.jobId, status: 'failed', error: outcome.reason });
    process.stderr.write(`error: job ${outcome.jobId} failed: ${outcome.reason}\n`);
    return 1;
  }
  if (outcome.state === 'skipped') return 0;
  return printer.print(outcome.report);
}
