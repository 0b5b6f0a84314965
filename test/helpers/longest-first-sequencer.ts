import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds a file took on a quiet two-core machine, for the files that dominate the run. With two
 * workers the run lasts at least as long as its longest file plus whatever ran before it on that
 * worker: the longest files must start first. Vitest's own sequencer orders by the durations it
 * cached, but without that cache (a fresh clone, CI, new project names) it orders by file size, and
 * the fleet files are three lines long: they started last and made the run ~150 s longer.
 */
const KNOWN_SECONDS: Record<string, number> = {
  'test/integration/fleet.test.ts': 150,
  'test/integration/fleet-server.test.ts': 140,
  'test/integration/faults-s3.test.ts': 42,
  'test/integration/cli.test.ts': 34,
  'test/integration/faults-sigkill.test.ts': 34,
  'test/integration/cluster.test.ts': 50,
  'test/integration/faults-store.test.ts': 24,
  'test/integration/workers.test.ts': 21,
  'test/integration/faults-redis.test.ts': 17,
  'test/integration/export-process.test.ts': 16,
  'test/integration/dev.test.ts': 12,
  'test/integration/export-server.test.ts': 20,
  'test/integration/exactly-once-server.test.ts': 20,
  'test/integration/push-revisions.test.ts': 20,
};

/** Longest expected duration first: the cached duration of the file's last run, else the table above. */
export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const expected = (spec: TestSpecification): number => {
      const path = relative(root, spec.moduleId).split('\\').join('/');
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration;
      return cached !== undefined && cached > 0 ? cached / 1000 : (KNOWN_SECONDS[path] ?? 0);
    };
    const byDefault = await super.sort(files);
    const position = new Map(byDefault.map((spec, i) => [spec, i]));
    return [...byDefault].sort((a, b) => expected(b) - expected(a) || position.get(a)! - position.get(b)!);
  }
}
