import type { App } from '../app.js';
import { listJobs, type JobStatus } from '../ops/ops-log.js';
import { projectRevision } from '../project/revision.js';
import { liveWorkers, openQueueClient } from '../queue/queue-client.js';
import { autoSchedulerId, exportSchedulerId } from '../queue/queue-names.js';
import { ensureInternalTables } from '../store/internal-tables.js';

/** One scheduled kind of run (import or export) of a datasource. */
export interface RunStatus {
  datasource: string;
  kind: 'import' | 'export';
  /** IMPORT_SCHEDULE or EXPORT_SCHEDULE as in the files. */
  schedule: string;
  /** Whether its job scheduler is in the queue (false before the push, and always for `@on-demand`). */
  scheduled: boolean;
  next_run: string | null;
  /** The latest run of this kind in the ops log, whatever started it. */
  last_run: { job: string; status: JobStatus; started_at: string; rows: number } | null;
}

/** What `status` reports: the runs, the queue, the workers, and which project they run. */
export interface ProjectStatus {
  datasources: RunStatus[];
  /** Jobs per state in the queue. */
  queue: Record<string, number>;
  /** The workers connected to the queue now (host:pid). */
  workers: string[];
  /** The revision pushed last, which the runs use; null before the first push. */
  revision: string | null;
  /** The revision of the files here, to compare with `revision`. */
  files: string;
}

/** Reads the schedules, counts and workers from the queue and the last runs from the ops log; changes nothing. */
export async function readStatus(app: App): Promise<ProjectStatus> {
  const queue = await openQueueClient(app);
  try {
    const schedulers = await queue.queue.getJobSchedulers(0, -1);
    const counts = await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    const workers = await liveWorkers(queue.queue);
    const store = await app.store();
    const client = store.client;
    await ensureInternalTables(store);
    const jobs = await listJobs(client, undefined, 1000);
    const rows = [...app.project.datasources.values()].flatMap((spec) => {
      const kinds: Array<{ kind: 'import' | 'export'; schedule: string; id: string }> = [];
      if (spec.import) kinds.push({ kind: 'import', schedule: spec.import.schedule, id: autoSchedulerId(spec.name) });
      if (spec.export) kinds.push({ kind: 'export', schedule: spec.export.schedule, id: exportSchedulerId(spec.name) });
      return kinds.map(({ kind, schedule, id }): RunStatus => {
        const scheduler = schedulers.find((s) => s.key === id);
        const last = jobs.find((j) => j.datasource === spec.name && j.kind === kind);
        return {
          datasource: spec.name,
          kind,
          schedule,
          scheduled: Boolean(scheduler),
          next_run: scheduler?.next ? new Date(scheduler.next).toISOString() : null,
          last_run: last ? { job: last.job_id, status: last.status, started_at: last.started_at, rows: last.rows } : null,
        };
      });
    });
    const { revision } = await app.runProject();
    const files = projectRevision(app.project).id;
    return { datasources: rows, queue: counts, workers, revision: revision ?? null, files };
  } finally {
    await queue.close();
  }
}
