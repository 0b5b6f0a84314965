import type { Redis } from 'ioredis';
import type { App } from '../app.js';
import type { Lease } from '../lease.js';
import { leaseTtlMs, tryTakeLease } from './redis-lease.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { storedFence } from '../store/lease-records.js';

/** Where runs take their leases: the queue's Redis, under the project's prefix. */
export interface LeaseSource {
  redis: Redis;
  prefix: string;
}

/**
 * What a lease is for: a run of one datasource (an import or an export), or a push. A run's first
 * write is its job's row in the ops log, so the store's record of the run's fence is that row; a
 * push records its lease itself (see push-project.ts), once its plan holds, so that a push refused
 * for a problem creates nothing.
 */
export type LeasePurpose = { kind: 'import' | 'export'; datasource: string } | { kind: 'push' };

export function leaseName(purpose: LeasePurpose): string {
  if (purpose.kind === 'push') return 'push';
  return purpose.kind === 'export' ? `export:${purpose.datasource}` : purpose.datasource;
}

/**
 * Takes the lease for `purpose` unless another process holds it. Its fence starts above every fence
 * the store has seen for it, should Redis have lost its own count.
 */
export async function tryTakeRunLease(app: App, source: LeaseSource, purpose: LeasePurpose): Promise<Lease | undefined> {
  const store = await app.store();
  if (purpose.kind !== 'push') await ensureInternalTables(store);
  const name = leaseName(purpose);
  return tryTakeLease(source.redis, source.prefix, name, {
    ttlMs: leaseTtlMs(app.env),
    storedFence: () => storedFence(store.client, name, purpose.kind === 'push' ? {} : { tablesExist: true, job: purpose }),
    onLost: (reason) => app.log.warn({ lease: name, reason }, 'lost the lease of a run; the run stops'),
  });
}

/** Takes the lease, waiting while another process holds it. */
export async function takeRunLease(app: App, source: LeaseSource, purpose: LeasePurpose, onBusy?: () => void): Promise<Lease> {
  let told = false;
  for (;;) {
    const lease = await tryTakeRunLease(app, source, purpose);
    if (lease) return lease;
    if (!told) onBusy?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
