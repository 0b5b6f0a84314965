import type { App } from '../app.js';
import { syncSchedules, type ScheduleChange } from '../queue/job-queue.js';
import { openQueueClient } from '../queue/queue-client.js';
import { autoIntervalMs } from '../queue/queue-names.js';
import { pushProject, type PushResult } from './push-project.js';

/** What a push did (or would do, with dryRun): the tables, the revision, and the schedules it changed. */
export type PushOutcome = PushResult & { schedules: ScheduleChange[] };

/**
 * Tables first, then the revision the workers run (under the push lease: two pushes never
 * interleave), then schedules. Schedules and the lease live in Redis, which push needs; a dry run
 * touches neither.
 */
export async function pushWithSchedules(app: App, options: { dryRun: boolean }): Promise<PushOutcome> {
  const queue = options.dryRun ? undefined : await openQueueClient(app, 'push records the project for the workers while holding its lease there');
  try {
    const result = await pushProject(app, { dryRun: options.dryRun, source: queue });
    const schedules = queue ? await syncSchedules(queue.queue, app.project, autoIntervalMs(app.env)) : [];
    return { ...result, schedules };
  } finally {
    await queue?.close();
  }
}
