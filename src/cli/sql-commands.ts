import type { Command } from 'commander';
import { listEvents, listJobs } from '../ops/ops-log.js';
import { runSql, SQL_FORMATS } from '../ops/run-sql.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { textTable } from './output.js';
import { withApp } from './with-app.js';

export function registerSqlCommands(program: Command): void {
  program
    .command('sql')
    .description('run a query on the store and print the result')
    .argument('<query>', 'the SQL query')
    .option('--format <format>', `output format: ${SQL_FORMATS.join(', ')}`, 'PrettyCompact')
    .action((query: string, options: { format: string }) =>
      withApp(program, async (app, output) => {
        const outcome = await runSql((await app.store()).client, query, options.format);
        if (outcome.kind === 'command') {
          output.result({ ok: true });
          output.line('ok');
          return;
        }
        for await (const chunk of outcome.stream) process.stdout.write(chunk as Buffer);
      }),
    );

  program
    .command('jobs')
    .description('the ops log: recent jobs, or the events of one job')
    .argument('[datasource]', 'only this datasource')
    .option('--limit <n>', 'how many jobs', '20')
    .option('--events <job_id>', 'the events of one job')
    .action((datasource: string | undefined, options: { limit: string; events?: string }) =>
      withApp(program, async (app, output) => {
        const store = await app.store();
        const client = store.client;
        await ensureInternalTables(store);
        if (options.events) {
          const events = await listEvents(client, { jobId: options.events, datasource });
          output.result(events);
          output.line(textTable(['time', 'level', 'event', 'message'], events.map((e) => [e.time, e.level, e.event, e.message])));
          return;
        }
        const jobs = await listJobs(client, datasource, Number(options.limit));
        output.result(jobs);
        if (jobs.length === 0) output.line('No jobs yet.');
        else
          output.line(
            textTable(
              ['job', 'datasource', 'kind', 'trigger', 'status', 'started', 'objects', 'failed', 'rows', 'quarantined', 'error'],
              jobs.map((j) => [j.job_id, j.datasource, j.kind, j.trigger, j.status, j.started_at, j.objects, j.failed_objects, j.rows, j.quarantined, j.error.split('\n')[0]!.slice(0, 80)]),
            ),
          );
      }),
    );
}
