import type { App } from '../app.js';
import { BucketpipeError } from '../errors.js';
import type { RunJobData } from '../queue/job-queue.js';

/**
 * The job of an on-demand import of `name`, and the bucket URI it imports from. What runs is the
 * project as pushed: a datasource added to the files but not pushed is not there yet.
 */
export async function importJob(app: App, name: string, options: { retryFailed?: boolean; limit?: number }): Promise<{ data: RunJobData; bucketUri: string }> {
  const { project, revision } = await app.runProject();
  const spec = project.datasources.get(name) ?? app.datasource(name);
  if (!project.datasources.has(name)) throw new BucketpipeError('NOT_PUSHED', `datasource ${name} is in the files but not in the pushed project (revision ${revision}); run bucketpipe push first.`, { context: { datasource: name } });
  if (!spec.import) throw new BucketpipeError('NO_IMPORT', `datasource ${name} has no IMPORT_* settings in ${spec.location.file}${revision ? ' as pushed' : ''}; there is nothing to sync.`);
  const data: RunJobData = { datasource: name, trigger: 'on-demand', retryFailed: Boolean(options.retryFailed), limit: options.limit, revision };
  return { data, bucketUri: spec.import.bucketUri };
}

/**
 * The job of an on-demand export of `name`. What runs is the project as pushed: EXPORT_* lines added
 * to the files count once pushed, and a datasource without them fails here rather than in a worker.
 */
export async function exportJob(app: App, name: string): Promise<RunJobData> {
  await app.runExportContext(name);
  const { revision } = await app.runProject();
  return { datasource: name, kind: 'export', trigger: 'on-demand', revision };
}
