import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import type { Lease } from '../lease.js';
import { leaseTtlMs, tryTakeLease } from './redis-lease.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { recordLease, storedFence } from '../store/lease-records.js';

/** Where runs take their leases: the queue's Redis, under the project's prefix. */
export interface LeaseSource {
  redis: Redis;
  prefix: string;
}

export interface RunLeaseOptions {
  /**
   * Record the lease in the store at once (default). `push` records it itself, once its plan holds:
   * a push refused for a problem creates nothing, not even the internal tables.
   */
  record?: boolean;
}

/**
 * Takes the lease of one run (`datasource`, `export:datasource`, `push`) unless another process holds
 * it. Its fence starts above every fence the store has recorded, and is recorded in turn.
 */
export async function tryTakeRunLease(app: App, source: LeaseSource, name: string, options: RunLeaseOptions = {}): Promise<Lease | undefined> {
  const store = await app.store();
  const record = options.record ?? true;
  if (record) await ensureInternalTables(store);
  const lease = await tryTakeLease(source.redis, source.prefix, name, {
    ttlMs: leaseTtlMs(app.env),
    storedFence: () => storedFence(store.client, name, { tableExists: record }),
    onLost: (reason) => app.log.warn({ lease: name, reason }, 'lost the lease of a run; the run stops'),
  });
  if (!lease || !record) return lease;
  try {
    await recordLease(store.client, lease);
  } catch (error) {
    await lease.release();
    throw error;
  }
  return lease;
}

/** Takes the lease, waiting while another process holds it. */
export async function takeRunLease(app: App, source: LeaseSource, name: string, onBusy?: () => void, options: RunLeaseOptions = {}): Promise<Lease> {
  let told = false;
  for (;;) {
    const lease = await tryTakeRunLease(app, source, name, options);
    if (lease) return lease;
    if (!told) onBusy?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
