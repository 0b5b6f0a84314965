import type { Command } from 'commander';
import { pushProject } from '../push/push-project.js';
import { withApp } from './main.js';

export function registerPushCommand(program: Command): void {
  program
    .command('push')
    .description('validate the project files and create or alter the tables they describe')
    .option('--dry-run', 'validate and print the plan without changing anything')
    .action((options: { dryRun?: boolean }) =>
      withApp(program, async (app, output) => {
        const result = await pushProject(app, { dryRun: Boolean(options.dryRun) });
        output.result(result);
        for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
        const changes = result.steps.filter((s) => s.action !== 'unchanged');
        if (result.steps.length === 0) output.line('No datasources in this project.');
        for (const step of result.steps) output.line(`${result.dryRun && step.action !== 'unchanged' ? 'would ' : ''}${step.description}`);
        if (changes.length === 0 && result.steps.length > 0) output.line('Everything is up to date.');
      }),
    );
}
