import type { Command } from 'commander';
import type { ExportReport } from '../exporter/export-datasource.js';
import { exportJob } from '../worker/on-demand-jobs.js';
import { exportHere } from '../worker/run-here.js';
import { runJobCommand } from './job-command.js';
import { withApp } from './with-app.js';
import { textTable, type Output } from './output.js';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("write a datasource's rows to its EXPORT_BUCKET_URI now: queue a job for the workers, or with --wait follow it")
    .argument('<name>', 'the datasource')
    .option('--wait', 'wait for the export and exit non-zero if it fails; with no worker running, export in this process')
    .action((name: string, options: { wait?: boolean }) =>
      withApp(program, async (app, output) =>
        runJobCommand<ExportReport>(
          app,
          output,
          {
            data: await exportJob(app, name),
            wait: Boolean(options.wait),
            doing: 'exporting',
            runHere: (queue) =>
              exportHere(app, name, { trigger: 'on-demand' }, { source: queue, onBusy: () => process.stderr.write(`note: an export of ${name} is running elsewhere; waiting for it to finish.\n`) }),
          },
          { print: (report) => printExport(output, report) },
        ),
      ),
    );
}

function printExport(output: Output, report: ExportReport): number {
  output.result(report);
  output.line(`export ${report.runId}: ${report.status}: ${report.files.length} files, ${report.rows} rows, ${report.bytes} bytes (${report.strategy})`);
  if (report.files.length > 0) output.line(textTable(['file', 'rows', 'bytes'], report.files.map((f) => [f.uri, f.rows, f.bytes])));
  if (report.recovered > 0) output.line(`${report.recovered} interrupted export runs were undone (their files removed) before this one`);
  if (report.error) process.stderr.write(`error: ${report.error.message}\n`);
  return report.status === 'ok' ? 0 : 1;
}
