import type { Command } from 'commander';
import { openApp, type App } from '../app.js';
import { toErrorReport } from '../errors.js';
import { createLogger } from '../log.js';
import { autoIntervalMs } from '../queue/queue-names.js';
import { pushWithSchedules } from '../push/push-with-schedules.js';
import { watchProject } from '../push/watch-project.js';
import { startWorker, type RunningWorker } from '../worker/run-worker.js';
import { readStatus, type ProjectStatus } from '../worker/status.js';
import { withApp, type GlobalOptions } from './with-app.js';
import { createOutput, reportError, textTable, type Output } from './output.js';
import { printPush } from './print-push.js';

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('run the import jobs of the project: @auto schedules and on-demand syncs (SIGTERM/SIGINT stop it cleanly)')
    .option('--concurrency <n>', 'jobs at the same time, for different datasources', '1')
    .action((options: { concurrency: string }) => runLongLived(program, 'worker', async (app) => startWorker(app, { concurrency: Number(options.concurrency) })));

  program
    .command('dev')
    .description('local mode in one process: push, then work, on the embedded store; pushes again when project files change')
    .action(() =>
      runLongLived(program, 'dev', async (app) => {
        const output = createOutput(program.opts<GlobalOptions>());
        printPush(output, await pushWithSchedules(app, { dryRun: false }), app.project);
        const worker = await startWorker(app);
        watchProject(app.projectDir, async () => {
          try {
            await app.reload();
            printPush(output, await pushWithSchedules(app, { dryRun: false }), app.project);
          } catch (error) {
            process.stderr.write(`error: ${toErrorReport(error).message}\n`);
          }
        });
        return worker;
      }),
    );

  program
    .command('status')
    .description('schedules, next and last run per datasource, queue depth and live workers')
    .action(() =>
      withApp(program, async (app, output) => printStatus(output, await readStatus(app))),
    );
}

function printStatus(output: Output, status: ProjectStatus): void {
  const { datasources: rows, queue: counts, workers, revision, files } = status;
  output.result(status);
  output.line(textTable(
    ['datasource', 'kind', 'schedule', 'next run', 'last run', 'status', 'rows'],
    rows.map((r) => [r.datasource, r.kind, r.schedule + (r.schedule !== '@on-demand' && !r.scheduled ? ' (not pushed)' : ''), r.next_run ?? '-', r.last_run?.started_at ?? '-', r.last_run?.status ?? '-', r.last_run?.rows ?? '-']),
  ));
  output.line();
  output.line(`queue: ${counts.waiting ?? 0} waiting, ${counts.active ?? 0} active, ${counts.delayed ?? 0} delayed, ${counts.failed ?? 0} failed`);
  output.line(`workers: ${workers.length}${workers.length ? ` (${workers.join(', ')})` : ' — start one with bucketpipe worker'}`);
  output.line(
    revision === null
      ? 'project: not pushed yet; runs use the files here'
      : `project: revision ${revision} pushed${revision === files ? ' (the files here are the same)' : `; the files here differ (${files}): bucketpipe push applies them`}`,
  );
}

/** Runs a worker-like process until SIGTERM or SIGINT, then stops it cleanly and exits 0. */
async function runLongLived(program: Command, role: 'worker' | 'dev', start: (app: App) => Promise<RunningWorker>): Promise<void> {
  const options = program.opts<GlobalOptions>();
  const output = createOutput(options);
  const log = createLogger(process.env, 'info');
  let app: App | undefined;
  try {
    app = await openApp({ projectDir: options.project, log, role });
    const worker = await start(app);
    const scheduled = [...app.project.datasources.values()].filter((d) => d.import?.schedule === '@auto').map((d) => d.name);
    log.info({ datasources: app.project.datasources.size, scheduled, everyMs: autoIntervalMs(app.env) }, `${role} started`);
    const stop = (signal: string) => {
      log.info({ signal }, `${role} stopping: the current object is finished first`);
      void worker.stop();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    await worker.stopped;
    log.info(`${role} stopped`);
    process.exitCode = 0;
  } catch (error) {
    process.exitCode = reportError(output, error);
  } finally {
    await app?.close().catch(() => undefined);
  }
}
