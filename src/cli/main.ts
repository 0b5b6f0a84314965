import { Command, Option } from 'commander';
import { openApp, type App } from '../app.js';
import { createOutput, reportError, type Output } from './output.js';
import { createLogger } from '../log.js';
import { registerDatasourceCommands } from './datasource-commands.js';
import { registerPushCommand } from './push-command.js';
import { registerSqlCommands } from './sql-commands.js';
import { registerWorkerCommands } from './worker-commands.js';
import { registerExportCommand } from './export-command.js';

/** Options every command takes. */
export interface GlobalOptions {
  project: string;
  json?: boolean;
  verbose?: boolean;
}

/** Runs a command body with an opened project and sets the exit code from its outcome. */
export async function withApp(program: Command, body: (app: App, output: Output) => Promise<number | void>): Promise<void> {
  const options = program.opts<GlobalOptions>();
  const output = createOutput(options);
  let app: App | undefined;
  try {
    app = await openApp({ projectDir: options.project, log: createLogger() });
    process.exitCode = (await body(app, output)) ?? 0;
  } catch (error) {
    process.exitCode = reportError(output, error);
  } finally {
    await app?.close().catch(() => undefined);
  }
}

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
