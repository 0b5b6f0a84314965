import type { Command } from 'commander';
import type { App } from '../app.js';
import { generateDatasource } from '../importer/generate-datasource.js';
import { previewDatasource, type DatasourcePreview } from '../importer/preview-datasource.js';
import type { ImportReport, SyncProgress } from '../importer/sync-datasource.js';
import { listDatasources } from '../ops/list-datasources.js';
import { importJob } from '../worker/on-demand-jobs.js';
import { importHere } from '../worker/run-here.js';
import { runJobCommand } from './job-command.js';
import { textTable, type Output } from './output.js';
import { withApp } from './with-app.js';

export function registerDatasourceCommands(program: Command): void {
  const datasource = program.command('datasource').description('list, preview, generate and sync datasources');

  datasource
    .command('ls')
    .description('the datasources of the project and their tables')
    .action(() =>
      withApp(program, async (app, output) => {
        const rows = await listDatasources((await app.store()).client, app.project);
        output.result(rows);
        output.line(textTable(['name', 'schedule', 'bucket uri', 'table', 'rows'], rows.map((r) => [r.name, r.schedule, r.bucket_uri, r.table, r.rows ?? '-'])));
      }),
    );

  datasource
    .command('preview')
    .description('the objects that match a datasource (new or imported) and the schema of its reference object')
    .argument('<name>', 'the datasource')
    .option('--limit <n>', 'how many objects to list', '20')
    .action((name: string, options: { limit: string }) =>
      withApp(program, async (app, output) => {
        const ctx = await app.importContext(name);
        printPreview(output, await previewDatasource(ctx), Number(options.limit), ctx.datasource.import.format ?? 'csv');
      }),
    );

  datasource
    .command('generate')
    .description('write a .datasource file with the schema inferred from the objects of a bucket URI')
    .argument('<bucket_uri>', 's3://bucket/prefix/*.csv')
    .requiredOption('--connection <name>', 'the connection to read the bucket with')
    .option('--name <name>', 'the datasource name (default: from the URI)')
    .option('--schedule <schedule>', '@auto or @on-demand', '@auto')
    .option('--force', 'overwrite an existing file')
    .action((bucketUri: string, options: { connection: string; name?: string; schedule: string; force?: boolean }) =>
      withApp(program, async (app, output) => {
        const generated = await generateDatasource(app, { bucketUri, connection: options.connection, name: options.name, schedule: options.schedule, force: options.force });
        output.result(generated);
        output.line(`wrote ${generated.file} (${generated.columns.length} columns inferred from ${generated.reference})`);
      }),
    );

  datasource
    .command('sync')
    .description('import the new objects of a datasource now: queue a job for the workers, or with --wait follow it')
    .argument('<name>', 'the datasource')
    .option('--wait', 'wait for the import and exit non-zero if it fails; with no worker running, import in this process')
    .option('--retry-failed', 'also import objects whose import failed before')
    .option('--limit <n>', 'at most this many objects')
    .action((name: string, options: { wait?: boolean; retryFailed?: boolean; limit?: string }) =>
      withApp(program, async (app, output) => syncCommand(app, output, name, options)),
    );
}

async function syncCommand(
  app: App,
  output: Output,
  name: string,
  options: { wait?: boolean; retryFailed?: boolean; limit?: string },
): Promise<number> {
  const { data, bucketUri } = await importJob(app, name, { retryFailed: options.retryFailed, limit: options.limit ? Number(options.limit) : undefined });
  const line = (p: SyncProgress) => `${name}: ${p.done}/${p.total} objects, ${p.rows} rows, ${p.quarantined} quarantined${p.current ? ` — ${p.current}` : ''}`;
  return runJobCommand<ImportReport>(
    app,
    output,
    {
      data,
      wait: Boolean(options.wait),
      doing: 'importing',
      runHere: (queue) =>
        importHere(
          app,
          name,
          { trigger: 'on-demand', retryFailed: data.retryFailed, limit: data.limit, onProgress: (p) => output.progress(line(p)) },
          { source: queue, onBusy: () => process.stderr.write(`note: an import of ${name} is running elsewhere; waiting for it to finish.\n`) },
        ),
    },
    { progressLine: (p) => (isProgress(p) ? line(p) : undefined), print: (report) => printReport(output, report, bucketUri) },
  );
}

function isProgress(value: unknown): value is SyncProgress {
  return typeof value === 'object' && value !== null && 'done' in value && 'total' in value;
}

function printReport(output: Output, report: ImportReport, bucketUri: string): number {
  output.result(report);
  output.line(`job ${report.jobId}: ${report.status}: ${report.objects.length} objects, ${report.rows} rows imported, ${report.quarantined} quarantined`);
  if (report.matched === 0 && report.status === 'ok') output.line(`no object matches ${bucketUri} (yet): check IMPORT_BUCKET_URI if objects are there`);
  if (report.recovered > 0) output.line(`${report.recovered} interrupted imports were undone and imported again`);
  for (const o of report.objects.filter((x) => x.status === 'failed')) output.line(`failed: ${o.error?.message}`);
  for (const uri of report.changed) output.line(`changed since imported (not imported again): ${uri}`);
  if (report.skippedFailed > 0) output.line(`${report.skippedFailed} objects failed in earlier runs and were skipped; use --retry-failed to try them again`);
  if (report.deferred > 0) output.line(`${report.deferred} more new objects are left for the next runs`);
  if (report.status === 'error' && report.objects.length === 0 && report.error) process.stderr.write(`error: ${report.error.message}\n`);
  return report.status === 'ok' ? 0 : 1;
}

function printPreview(output: Output, preview: DatasourcePreview, limit: number, format: string): void {
  output.result(preview);
  output.line(`${preview.datasource}: ${preview.matched} objects match ${preview.bucketUri}: ${preview.new.length} new, ${preview.imported} imported, ${preview.changed.length} changed, ${preview.failed.length} failed`);
  if (preview.new.length > 0) {
    output.line();
    output.line(textTable(['new object', 'bytes', 'last modified'], preview.new.slice(0, limit).map((o) => [o.uri, o.size, o.lastModified])));
    if (preview.new.length > limit) output.line(`… and ${preview.new.length - limit} more`);
  }
  output.line();
  output.line(`Schema (${preview.schemaSource}):`);
  output.line(textTable(['column', 'type'], preview.schema.map((c) => [c.name, c.type])));
  // Shown unless IMPORT_FORMAT says the objects are not CSV.
  if (format === 'csv') {
    output.line();
    output.line(`First row of each CSV object: ${preview.csvHeader}`);
  }
}
