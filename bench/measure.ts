/**
 * One measurement in a process of its own (a fresh engine, and a peak RSS that is this step's alone):
 * `node --import tsx bench/measure.ts '<json task>'`. Prints `RESULT <json Measurement>` last.
 */
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { importNaively, importNatively, importWithBucketpipe } from './scenarios/import-large.js';
import { importSmallFiles } from './scenarios/small-files.js';
import { measureDiscovery } from './scenarios/discovery.js';
import { measureExport } from './scenarios/export.js';
import type { Measurement } from './measurement.js';

export type Task =
  | { kind: 'import-bucketpipe' | 'import-native' | 'import-naive'; args: Parameters<typeof importWithBucketpipe>[0] }
  | { kind: 'small-files'; args: Parameters<typeof importSmallFiles>[0] }
  | { kind: 'discovery'; args: Parameters<typeof measureDiscovery>[0] }
  | { kind: 'export'; args: Parameters<typeof measureExport>[0] };

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
