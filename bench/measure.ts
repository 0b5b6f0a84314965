/**
 * One measurement in a process of its own (a fresh engine, and a peak RSS that is this step's alone):
 * `node --import tsx bench/measure.ts '<json task>'`. Prints `RESULT <json Measurement>` last.
 */
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { returnFreedMemoryPromptly } from '../src/store/engine-memory.js';
import type { LargeImportArgs } from './scenarios/import-large.js';
import type { SmallFilesArgs } from './scenarios/small-files.js';
import type { DiscoveryArgs } from './scenarios/discovery.js';
import type { ExportArgs } from './scenarios/export.js';
import type { ServerExportArgs, ServerImportArgs } from './scenarios/server.js';
import type { Measurement } from './measurement.js';

// As the CLI does, before the engine loads (the scenarios load it): baselines and bucketpipe alike.
returnFreedMemoryPromptly();
const { importNaively, importNatively, importWithBucketpipe } = await import('./scenarios/import-large.js');
const { importSmallFiles } = await import('./scenarios/small-files.js');
const { measureDiscovery } = await import('./scenarios/discovery.js');
const { measureExport } = await import('./scenarios/export.js');
const { importToServerNatively, importToServerWithBucketpipe, measureServerExport } = await import('./scenarios/server.js');

export type Task =
  | { kind: 'import-bucketpipe' | 'import-native' | 'import-naive'; args: LargeImportArgs }
  | { kind: 'small-files'; args: SmallFilesArgs }
  | { kind: 'discovery'; args: DiscoveryArgs }
  | { kind: 'export'; args: ExportArgs }
  | { kind: 'server-import-bucketpipe' | 'server-import-native'; args: ServerImportArgs }
  | { kind: 'server-export'; args: ServerExportArgs };

function run(task: Task): Promise<Measurement> {
  switch (task.kind) {
    case 'import-bucketpipe':
      return importWithBucketpipe(task.args);
    case 'import-native':
      return importNatively(task.args);
    case 'import-naive':
      return importNaively(task.args);
    case 'small-files':
      return importSmallFiles(task.args);
    case 'discovery':
      return measureDiscovery(task.args);
    case 'export':
      return measureExport(task.args);
    case 'server-import-bucketpipe':
      return importToServerWithBucketpipe(task.args);
    case 'server-import-native':
      return importToServerNatively(task.args);
    case 'server-export':
      return measureServerExport(task.args);
  }
}

quietNodeVersionNotice();
const task = JSON.parse(process.argv[2] ?? '{}') as Task;
run(task).then(
  (measurement) => {
    process.stdout.write(`RESULT ${JSON.stringify(measurement)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
