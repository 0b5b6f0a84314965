import type { Command } from 'commander';
import { openApp, type App } from '../app.js';
import { createLogger } from '../log.js';
import { createOutput, reportError, type Output } from './output.js';

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
