import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import { syncDatasource, type ImportReport, type SyncOptions } from '../importer/sync-datasource.js';
import { tryLockDatasource, type DatasourceLock } from '../queue/datasource-lock.js';

/**
 * Runs an import in this process, for `sync --wait` when no worker is there to take the job. With a
 * queue it still takes the datasource's lock, so it never overlaps a worker's run.
 */
export async function runImportHere(
  app: App,
  datasource: string,
  options: SyncOptions,
  queue?: { redis: Redis; prefix: string; onBusy?: () => void },
): Promise<ImportReport> {
  let lock: DatasourceLock | undefined;
  if (queue) {
    let told = false;
    while (!(lock = await tryLockDatasource(queue.redis, queue.prefix, datasource))) {
      if (!told) queue.onBusy?.();
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await syncDatasource(await app.importContext(datasource), options);
  } finally {
    await lock?.release();
  }
}
