import { projectId } from '../project/project-id.js';

/**
 * The queue every import and export job goes through. Its name in Redis stays `imports`, the name it had
 * before exports ran through it: workers of an earlier version and jobs still pending keep using it.
 */
export const RUN_QUEUE = 'imports';

/** The Redis key prefix of a project, so two projects can share one Redis. */
export function queuePrefix(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return `bucketpipe:${projectId(projectDir, env)}`;
}

/** The job scheduler of an `@auto` datasource. */
export function autoSchedulerId(datasource: string): string {
  return `auto:${datasource}`;
}

/** The job scheduler of a datasource's EXPORT_SCHEDULE. */
export function exportSchedulerId(datasource: string): string {
  return `export:${datasource}`;
}

export function datasourceOfScheduler(id: string): string | undefined {
  const match = /^(auto|export):(.*)$/.exec(id);
  return match ? match[2] : undefined;
}

/** `@auto` means every minute; `BUCKETPIPE_AUTO_INTERVAL_MS` shortens it (tests, demos). */
export function autoIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BUCKETPIPE_AUTO_INTERVAL_MS);
  return Number.isFinite(value) && value >= 100 ? value : 60_000;
}
