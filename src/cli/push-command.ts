import type { Command } from 'commander';
import type { App } from '../app.js';
import { pushProject, type PushResult } from '../push/push-project.js';
import { syncSchedules, type ScheduleChange } from '../queue/job-queue.js';
import { openQueueClient } from '../queue/queue-client.js';
import { autoIntervalMs } from '../queue/queue-names.js';
import { withApp } from './main.js';
import type { Output } from './output.js';

export function registerPushCommand(program: Command): void {
  program
    .command('push')
    .description('validate the project files, create or alter their tables and update the @auto schedules')
    .option('--dry-run', 'validate and print the plan without changing anything')
    .action((options: { dryRun?: boolean }) =>
      withApp(program, async (app, output) => {
        await pushWithSchedules(app, output, Boolean(options.dryRun));
      }),
    );
}

/**
 * Tables first, then the revision the workers run, then schedules, all while holding the push lease
 * (two pushes never interleave). Schedules and the lease live in Redis, which push needs.
 */
export async function pushWithSchedules(app: App, output: Output, dryRun: boolean): Promise<PushResult & { schedules: ScheduleChange[] }> {
  const queue = dryRun ? undefined : await openQueueClient(app, 'push records the project for the workers while holding its lease there');
  try {
    const result = await pushProject(app, { dryRun, source: queue });
    const schedules = queue ? await syncSchedules(queue.queue, app.project, autoIntervalMs(app.env)) : [];
    const all = { ...result, schedules };
    output.result(all);
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    if (result.steps.length === 0) output.line('No datasources in this project.');
    for (const step of result.steps) output.line(`${dryRun && step.action !== 'unchanged' ? 'would ' : ''}${step.description}`);
    if (result.revision.changed) {
      output.line(`${dryRun ? 'would record' : 'recorded'} project revision ${result.revision.id}${result.revision.previous ? ` (was ${result.revision.previous})` : ''}: workers run it from their next job`);
    }
    for (const change of schedules) output.line(change.description);
    if (dryRun) {
      for (const spec of app.project.datasources.values()) if (spec.import?.schedule === '@auto') output.line(`would keep ${spec.name} scheduled: @auto`);
    }
    if (result.steps.every((s) => s.action === 'unchanged') && !result.revision.changed && schedules.length === 0 && result.steps.length > 0) output.line('Everything is up to date.');
    return all;
  } finally {
    await queue?.close();
  }
}
