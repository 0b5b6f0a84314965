import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis.js';
import type { Lease } from '../../src/lease.js';
import { tryTakeLease, type LeaseOptions } from '../../src/queue/redis-lease.js';

/**
 * The fenced lease where lease.test.ts does not go: renewal over time, a Redis that goes silent or
 * comes back empty, and fences over many holders. On a Redis of this file's own, which the tests
 * pause and restart. Waits are on Redis's own events (a renewal is a PEXPIRE, seen through
 * keyspace notifications) and on the lease's abort signal, never on the clock alone.
 */
describe('fenced lease: renewal and loss', () => {
  let server: LocalRedis;
  let redis: Redis;
  let control: Redis;
  let events: Redis;
  /** Renewals (PEXPIRE) seen so far, by key. */
  const renewals = new Map<string, number>();
  const waiters: Array<() => void> = [];

  beforeAll(async () => {
    server = await startLocalRedis();
    // The lease's client gives up on a command at once while disconnected (as the worker's does not
    // need to wait either): the lease's own timeouts are what is under test.
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    control = new Redis(server.url);
    events = new Redis(server.url);
    await control.config('SET', 'notify-keyspace-events', 'Eg');
    await events.subscribe('__keyevent@0__:expire');
    events.on('message', (_channel: string, key: string) => {
      renewals.set(key, (renewals.get(key) ?? 0) + 1);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  afterAll(async () => {
    redis.disconnect();
    control.disconnect();
    events.disconnect();
    await server.stop();
  });

  const prefix = () => `bucketpipe:lease-loss-${randomBytes(4).toString('hex')}`;
  const options = (extra: Partial<LeaseOptions> = {}): LeaseOptions => ({ ttlMs: 900, storedFence: async () => 0, ...extra });

  /** Resolves once `key` has been renewed `count` more times than now. */
  async function renewed(key: string, count: number, timeoutMs = 15_000): Promise<void> {
    const target = (renewals.get(key) ?? 0) + count;
    const deadline = Date.now() + timeoutMs;
    while ((renewals.get(key) ?? 0) < target) {
      if (Date.now() > deadline) throw new Error(`${key} was renewed ${renewals.get(key) ?? 0} times, not ${target}, within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 1_000).unref();
      });
    }
  }

  /** The abort reason of a lease, once its signal aborts (failing after `timeoutMs`). */
  function lost(lease: Lease, timeoutMs = 15_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (lease.signal.aborted) return resolve(lease.signal.reason);
      const timer = setTimeout(() => reject(new Error(`the holder was not told within ${timeoutMs} ms`)), timeoutMs);
      lease.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(lease.signal.reason)));
    });
  }

  // Guards against a renewal that does not run or does not extend the lock: a long import would lose
  // its lease after one TTL, and a second worker would write beside it.
  it('a held lease outlives its ttl by renewal, and nobody else can take it meanwhile', async () => {
    const p = prefix();
    const key = `${p}:lock:ds`;
    const taken = Date.now();
    const lease = (await tryTakeLease(redis, p, 'ds', options()))!;
    // Renewed until three TTLs have passed since it was taken.
    while (Date.now() - taken < 3 * 900) await renewed(key, 1);
    expect(lease.signal.aborted).toBe(false);
    expect(await control.pttl(key)).toBeGreaterThan(0);
    expect(await tryTakeLease(redis, p, 'ds', options())).toBeUndefined();
    await lease.assertHeld();
    await lease.release();
    expect(await control.exists(key)).toBe(0);
  });

  // Guards against a holder that keeps writing while Redis is silent: nothing proves then that the
  // lease did not lapse and pass to another worker. It must stop (LEASE_LOST, told once), and stay stopped.
  it('a Redis that does not answer at renewal time ends the hold: the signal aborts, onLost is told once', async () => {
    const p = prefix();
    const told: string[] = [];
    const lease = (await tryTakeLease(redis, p, 'ds', options({ onLost: (reason) => told.push(reason) })))!;
    await renewed(`${p}:lock:ds`, 1);
    // Every client's commands wait for 1.5 s: five times what a renewal may take (a third of the ttl).
    await control.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const reason = await lost(lease);
    expect(reason).toMatchObject({ code: 'LEASE_LOST' });
    expect((reason as Error).message).toContain('renewal failed');
    await expect(lease.assertHeld()).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(lease.assertHeld()).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/renewal failed: Redis did not answer within \d+ ms/);
    // Its lock lapses (it is renewed no more), and the next holder gets a larger fence.
    let next: Lease | undefined;
    while (!(next = await tryTakeLease(redis, p, 'ds', options()))) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(next.fence).toBeGreaterThan(lease.fence);
    await lease.release();
    await next.assertHeld();
    await next.release();
  });

  // Guards against a fence handed out twice after Redis lost its data: a holder from before the loss
  // and one after would version their ledger rows alike, and the late one's rows could win.
  it('a Redis that came back empty ends the hold; the next fence still passes every earlier one, by the store floor', async () => {
    const p = prefix();
    const first = (await tryTakeLease(redis, p, 'ds', options()))!;
    await first.release();
    const lease = (await tryTakeLease(redis, p, 'ds', options()))!;
    expect(lease.fence).toBe(first.fence + 1);
    await server.restart();
    // The restart dropped the notification setting: put it back at once, so that a failure below does
    // not take the renewal events from the tests after this one (the subscription comes back by itself).
    await control.config('SET', 'notify-keyspace-events', 'Eg');
    const reason = await lost(lease);
    expect(reason).toMatchObject({ code: 'LEASE_LOST' });
    expect(await control.get(`${p}:fence:ds`)).toBeNull();
    // The store saw the fences written under: the new holder starts above them.
    const next = (await tryTakeLease(redis, p, 'ds', options({ storedFence: async () => lease.fence })))!;
    expect(next.fence).toBe(lease.fence + 1);
    await next.release();
  });

  // Guards against a floor that lowers the fence (the store may lag behind Redis) or a fence that does
  // not grow past both: every holder's fence must exceed every fence before it.
  it('each fence exceeds both the last one and the floor, over many holders', async () => {
    const p = prefix();
    const fences: number[] = [];
    for (const floor of [0, 5, 2, 0, 10, 3, 11]) {
      const lease = (await tryTakeLease(redis, p, 'ds', options({ storedFence: async () => floor })))!;
      fences.push(lease.fence);
      await lease.release();
    }
    expect(fences).toEqual([1, 6, 7, 8, 11, 12, 13]);
  });

  // Guards against a released lease that keeps renewing (it would extend the next holder's lock, or
  // report a loss for a lease its run gave back) and against a release that removes another's lock.
  it('a released lease stops renewing and is never reported lost', async () => {
    const p = prefix();
    const key = `${p}:lock:ds`;
    const told: string[] = [];
    const lease = (await tryTakeLease(redis, p, 'ds', options({ onLost: (reason) => told.push(reason) })))!;
    await lease.release();
    const next = (await tryTakeLease(redis, p, 'ds', options()))!;
    // Three renewals of the next holder: three renewal periods in which the released one would have run.
    await renewed(key, 3);
    expect(lease.signal.aborted).toBe(false);
    expect(told).toEqual([]);
    await lease.release();
    expect(await control.get(key)).toMatch(new RegExp(`\\|${next.fence}$`));
    await next.release();
  });

  // Guards against a run that hangs at its end on a silent Redis: the release gives up after its own timeout.
  it('a release on a silent Redis returns', async () => {
    const p = prefix();
    const lease = (await tryTakeLease(redis, p, 'ds', options({ ttlMs: 60_000 })))!;
    await control.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const started = Date.now();
    await lease.release();
    expect(Date.now() - started).toBeLessThan(2_900);
  });
});
