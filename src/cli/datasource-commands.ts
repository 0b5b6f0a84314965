import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { objectUri, parseBucketUri } from '../bucket/bucket-uri.js';
import { BucketpipeError } from '../errors.js';
import { discoverObjects, discoveryCounts } from '../importer/discover.js';
import { inferObjectColumns } from '../importer/infer-columns.js';
import { readLedger } from '../importer/ledger.js';
import type { ImportReport, SyncProgress } from '../importer/sync-datasource.js';
import type { App } from '../app.js';
import type { ImportJobData } from '../queue/import-queue.js';
import { runJobCommand } from './job-command.js';
import { importHere } from '../worker/run-here.js';
import { datasourceRecord } from '../importer/datasource-tables.js';
import { ambiguousHeaderNote, headerRule, type HeaderRule } from '../importer/csv-header.js';
import type { DatasourceSpec } from '../project/types.js';
import { DEFAULT_MAX_FILES_PER_RUN } from '../project/import-settings.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { giveUserPermissions } from '../store/private-files.js';
import { selectRows } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { loadableColumns, readTableColumns } from '../store/table-ddl.js';
import { renderDatasourceFile, suggestDatasourceName } from './render-datasource.js';
import { textTable, type Output } from './output.js';
import { withApp } from './main.js';

export function registerDatasourceCommands(program: Command): void {
  const datasource = program.command('datasource').description('list, preview, generate and sync datasources');

  datasource
    .command('ls')
    .description('the datasources of the project and their tables')
    .action(() =>
      withApp(program, async (app, output) => {
        const client = (await app.store()).client;
        const rows = [];
        for (const spec of app.project.datasources.values()) {
          const columns = await readTableColumns(client, spec.name);
          const count = columns
            ? Number((await selectRows<{ n: string }>(client, `SELECT count() AS n FROM ${quoteIdentifier(spec.name)}`))[0]?.n ?? 0)
            : null;
          rows.push({
            name: spec.name,
            file: spec.location.file,
            schedule: spec.import?.schedule ?? '',
            bucket_uri: spec.import?.bucketUri ?? '',
            table: columns ? 'created' : 'not pushed',
            rows: count,
          });
        }
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
        await ensureInternalTables(ctx.store);
        const uri = ctx.datasource.import.uri;
        const ledger = await readLedger(ctx.store.client, name);
        const discovery = await discoverObjects(ctx.access, uri, ledger);
        const table = await readTableColumns(ctx.store.client, name);
        let schema: Array<{ name: string; type: string }>;
        let schemaSource: string;
        let csvHeader = describeHeaderRule(headerRule(ctx.datasource));
        if (table) {
          schema = loadableColumns(table).map((c) => ({ name: c.name, type: c.type }));
          const record = await datasourceRecord(ctx.store.client, name);
          schemaSource = `table ${name}${record.reference ? ` (inferred from ${record.reference})` : ''}`;
          csvHeader = describeHeaderRule(headerRule(ctx.datasource, { columns: schema.map((c) => c.name), csvHeader: record.csvHeader }));
        } else if (ctx.datasource.schema) {
          schema = ctx.datasource.schema.map((c) => ({ name: c.name, type: c.type }));
          schemaSource = `SCHEMA of ${ctx.datasource.location.file}`;
        } else if (discovery.toImport[0]) {
          const reference = discovery.toImport[0];
          const where = objectUri(reference.bucket, reference.key);
          const { layout, columns } = await inferObjectColumns(ctx, reference, { csvHeader: headerRule(ctx.datasource) });
          schema = columns;
          schemaSource = `inferred from ${where}`;
          if (layout.csv) csvHeader = layout.ambiguousHeader ? `${ambiguousHeaderNote(where, layout.ambiguousHeader, name)}.` : `${layout.csv.hasHeader ? 'a header' : 'data'}, as ${where} shows.`;
        } else {
          schema = [];
          schemaSource = 'no object to infer from yet';
        }
        const limit = Number(options.limit);
        const result = {
          datasource: name,
          bucketUri: ctx.datasource.import.bucketUri,
          matched: discovery.matched,
          imported: discovery.imported,
          new: discovery.toImport.map((o) => ({ uri: objectUri(o.bucket, o.key), size: o.size, lastModified: o.lastModified.toISOString() })),
          changed: [...discovery.changed, ...discovery.changedBefore].map((o) => objectUri(o.bucket, o.key)),
          failed: discovery.failed.map((o) => objectUri(o.bucket, o.key)),
          schemaSource,
          schema,
          csvHeader,
        };
        output.result(result);
        const counts = discoveryCounts(discovery);
        output.line(`${name}: ${counts.matched} objects match ${ctx.datasource.import.bucketUri}: ${counts.new} new, ${counts.imported} imported, ${counts.changed} changed, ${counts.failed} failed`);
        if (result.new.length > 0) {
          output.line();
          output.line(textTable(['new object', 'bytes', 'last modified'], result.new.slice(0, limit).map((o) => [o.uri, o.size, o.lastModified])));
          if (result.new.length > limit) output.line(`… and ${result.new.length - limit} more`);
        }
        output.line();
        output.line(`Schema (${schemaSource}):`);
        output.line(textTable(['column', 'type'], schema.map((c) => [c.name, c.type])));
        // Shown unless IMPORT_FORMAT says the objects are not CSV.
        if ((ctx.datasource.import.format ?? 'csv') === 'csv') {
          output.line();
          output.line(`First row of each CSV object: ${csvHeader}`);
        }
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
        const uri = parseBucketUri(bucketUri);
        const name = options.name ?? suggestDatasourceName(uri);
        const file = join(app.projectDir, 'datasources', `${name}.datasource`);
        if (existsSync(file) && !options.force) {
          throw new BucketpipeError('PROJECT_INVALID', `datasources/${name}.datasource exists; use --force to overwrite it or --name to choose another name.`);
        }
        const spec: DatasourceSpec = {
          name,
          location: { file: `datasources/${name}.datasource`, line: 1 },
          engine: { engine: 'MergeTree', engineArgs: [], location: { file: `datasources/${name}.datasource`, line: 1 } },
          import: {
            service: 's3', connectionName: options.connection, bucketUri, uri, schedule: options.schedule === '@on-demand' ? '@on-demand' : '@auto',
            strategy: 'APPEND', maxFilesPerRun: DEFAULT_MAX_FILES_PER_RUN, location: { file: `datasources/${name}.datasource`, line: 1 },
          },
        };
        const ctx = await app.importContextFor(spec);
        const discovery = await discoverObjects(ctx.access, uri, new Map());
        const reference = discovery.toImport[0];
        if (!reference) throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', `No object matches ${bucketUri}; upload one first or write the SCHEMA by hand.`);
        const { layout, columns } = await inferObjectColumns(ctx, reference);
        const text = renderDatasourceFile({ spec, columns, format: layout.format, reference: objectUri(reference.bucket, reference.key) });
        mkdirSync(join(app.projectDir, 'datasources'), { recursive: true });
        writeFileSync(file, text);
        giveUserPermissions(file);
        output.result({ file: `datasources/${name}.datasource`, reference: objectUri(reference.bucket, reference.key), columns });
        output.line(`wrote datasources/${name}.datasource (${columns.length} columns inferred from ${objectUri(reference.bucket, reference.key)})`);
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
  // What runs is the project as pushed: a datasource added to the files but not pushed is not there yet.
  const { project, revision } = await app.runProject();
  const spec = project.datasources.get(name) ?? app.datasource(name);
  if (!project.datasources.has(name)) throw new BucketpipeError('NOT_PUSHED', `datasource ${name} is in the files but not in the pushed project (revision ${revision}); run bucketpipe push first.`, { context: { datasource: name } });
  if (!spec.import) throw new BucketpipeError('NO_IMPORT', `datasource ${name} has no IMPORT_* settings in ${spec.location.file}${revision ? ' as pushed' : ''}; there is nothing to sync.`);
  const data: ImportJobData = { datasource: name, trigger: 'on-demand', retryFailed: Boolean(options.retryFailed), limit: options.limit ? Number(options.limit) : undefined, revision };
  const line = (p: SyncProgress) => `${name}: ${p.done}/${p.total} objects, ${p.rows} rows, ${p.quarantined} quarantined${p.current ? ` — ${p.current}` : ''}`;
  return runJobCommand<ImportReport>(app, output, {
    data,
    wait: Boolean(options.wait),
    doing: 'importing',
    progressLine: (p) => (isProgress(p) ? line(p) : undefined),
    runHere: (queue) =>
      importHere(
        app,
        name,
        { trigger: 'on-demand', retryFailed: data.retryFailed, limit: data.limit, onProgress: (p) => output.progress(line(p)) },
        { source: queue, onBusy: () => process.stderr.write(`note: an import of ${name} is running elsewhere; waiting for it to finish.\n`) },
      ),
    print: (report) => printReport(output, report, spec.import!.bucketUri),
  });
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

/** How the first row of a datasource's CSV objects is read, as a sentence. */
function describeHeaderRule(rule: HeaderRule): string {
  if (rule.kind === 'decided') return rule.hasHeader ? 'a header.' : 'data.';
  if (rule.kind === 'names') return 'a header when it names columns of the SCHEMA, else data.';
  return 'decided on the reference object.';
}
