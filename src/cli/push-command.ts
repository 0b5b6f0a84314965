import type { Command } from 'commander';
import { pushWithSchedules } from '../push/push-with-schedules.js';
import { printPush } from './print-push.js';
import { withApp } from './with-app.js';

export function registerPushCommand(program: Command): void {
  program
    .command('push')
    .description('validate the project files, create or alter their tables and update the @auto schedules')
    .option('--dry-run', 'validate and print the plan without changing anything')
    .action((options: { dryRun?: boolean }) =>
      withApp(program, async (app, output) => {
        printPush(output, await pushWithSchedules(app, { dryRun: Boolean(options.dryRun) }), app.project);
      }),
    );
}
