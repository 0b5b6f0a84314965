import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import { exportDatasource, type ExportReport } from '../exporter/export-datasource.js';
import { syncDatasource, type ImportReport, type SyncOptions } from '../importer/sync-datasource.js';
import { tryLockDatasource, type DatasourceLock } from '../queue/datasource-lock.js';

/** The queue's Redis, when there is one: runs in this process still take the datasource's lock. */
export interface LockSource {
  redis: Redis;
  prefix: string;
  onBusy?: () => void;
}

/** Runs `work` holding a datasource lock (waiting for it), so it never overlaps a worker's run. */
async function whileHoldingLock<T>(source: LockSource | undefined, lockName: string, work: () => Promise<T>): Promise<T> {
  let lock: DatasourceLock | undefined;
  if (source) {
    let told = false;
    while (!(lock = await tryLockDatasource(source.redis, source.prefix, lockName))) {
      if (!told) source.onBusy?.();
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await work();
  } finally {
    await lock?.release();
  }
}

/** An import in this process, for `sync --wait` when no worker is there to take the job. */
export function runImportHere(app: App, datasource: string, options: SyncOptions, source?: LockSource): Promise<ImportReport> {
  return whileHoldingLock(source, datasource, async () => syncDatasource(await app.importContext(datasource), options));
}

/** An export in this process, for `export --wait` when no worker is there to take the job. */
export function runExportHere(app: App, datasource: string, source?: LockSource): Promise<ExportReport> {
  return whileHoldingLock(source, `export:${datasource}`, async () => exportDatasource(await app.exportContext(datasource), { trigger: 'on-demand' }));
}
