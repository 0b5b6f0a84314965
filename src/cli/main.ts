import { Command, Option } from 'commander';
import { registerDatasourceCommands } from './datasource-commands.js';
import { registerPushCommand } from './push-command.js';
import { registerSqlCommands } from './sql-commands.js';
import { registerWorkerCommands } from './worker-commands.js';
import { registerExportCommand } from './export-command.js';

export function buildProgram(): Command {
  const program = new Command('bucketpipe')
    .description('Keep S3 buckets and a ClickHouse store in sync, from Tinybird-style project files.')
    .addOption(new Option('--project <dir>', 'the project folder (holds datasources/ and connections/)').default(process.cwd(), 'the current folder'))
    .option('--json', 'print one JSON document for scripts')
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError();
  registerPushCommand(program);
  registerDatasourceCommands(program);
  registerSqlCommands(program);
  registerWorkerCommands(program);
  registerExportCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
