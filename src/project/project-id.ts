import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/**
 * The id of a project: `BUCKETPIPE_PROJECT_ID`, else the folder name and a hash of its path. It
 * prefixes the project's Redis keys and names its pushed revisions in the store, so projects can share
 * a Redis or a store; workers of one project on several machines (or paths) set the same value.
 */
export function projectId(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.BUCKETPIPE_PROJECT_ID || `${basename(projectDir)}-${createHash('sha256').update(projectDir).digest('hex').slice(0, 8)}`;
}
