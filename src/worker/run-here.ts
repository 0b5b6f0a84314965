import type { App } from '../app.js';
import { exportDatasource, type ExportOptions, type ExportReport } from '../exporter/export-datasource.js';
import { syncDatasource, type ImportReport, type SyncOptions } from '../importer/sync-datasource.js';
import type { ImportContext } from '../importer/import-context.js';
import type { ExportContext } from '../exporter/export-context.js';
import type { Lease } from '../lease.js';
import { openQueueClient } from '../queue/queue-client.js';
import { takeRunLease, type LeasePurpose, type LeaseSource } from '../queue/run-lease.js';

/** How a run in this process finds its lease: an open queue connection, or the project's Redis. */
export interface HereOptions {
  /** The queue connection the command already has; opened (and closed) here when absent. */
  source?: LeaseSource;
  /** Told once when another process holds the lease and this run waits for it. */
  onBusy?: () => void;
  /** Adjusts the import's context (a logger of its own, batch size) before the run; for tests and benchmarks. */
  adjust?: (ctx: ImportContext) => ImportContext;
  /** The same for an export's context. */
  adjustExport?: (ctx: ExportContext) => ExportContext;
}

/**
 * Runs `work` holding the lease `name`, taken in the project's Redis (waiting while another process
 * holds it), so it never overlaps a worker's run. Without Redis there is no lease, and no run: an
 * unfenced run beside a worker is how rows get doubled.
 */
async function withRunLease<T>(app: App, purpose: LeasePurpose, here: HereOptions, work: (lease: Lease) => Promise<T>): Promise<T> {
  const queue = here.source ? undefined : await openQueueClient(app, 'a run needs its lease there, so that it never overlaps a worker\'s run');
  try {
    const lease = await takeRunLease(app, here.source ?? queue!, purpose, here.onBusy);
    try {
      return await work(lease);
    } finally {
      await lease.release();
    }
  } finally {
    await queue?.close();
  }
}

/** An import in this process (`sync --wait` when no worker runs, tests, benchmarks). */
export function importHere(app: App, datasource: string, options: Omit<SyncOptions, 'lease'>, here: HereOptions = {}): Promise<ImportReport> {
  return withRunLease(app, { kind: 'import', datasource }, here, async (lease) => {
    const ctx = await app.runImportContext(datasource);
    return syncDatasource(here.adjust ? here.adjust(ctx) : ctx, { ...options, lease });
  });
}

/** An export in this process (`export --wait` when no worker runs, tests, benchmarks). */
export function exportHere(app: App, datasource: string, options: Omit<ExportOptions, 'lease'>, here: HereOptions = {}): Promise<ExportReport> {
  return withRunLease(app, { kind: 'export', datasource }, here, async (lease) => {
    const ctx = await app.runExportContext(datasource);
    return exportDatasource(here.adjustExport ? here.adjustExport(ctx) : ctx, { ...options, lease });
  });
}
