import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tryTakeLease } from '../../src/queue/redis-lease.js';
import { fenceOfVersion } from '../../src/store/versions.js';

/** The fenced lease on a real Redis: who holds it, what a holder that lost it learns, and the fences. */
describe('fenced lease', () => {
  const redis = new Redis(inject('redisUrl'));
  afterAll(() => redis.disconnect());
  const prefix = () => `bucketpipe:lease-test-${randomBytes(4).toString('hex')}`;
  const options = (storedFence = 0, ttlMs = 900) => ({ ttlMs, storedFence: async () => storedFence });

  it('is held by one at a time; each holder gets a larger fence, and versions that sort by it', async () => {
    const p = prefix();
    const first = (await tryTakeLease(redis, p, 'ds', options()))!;
    expect(await tryTakeLease(redis, p, 'ds', options())).toBeUndefined();
    const firstVersions = [first.nextVersion(), first.nextVersion()];
    await first.release();
    const second = (await tryTakeLease(redis, p, 'ds', options()))!;
    expect(second.fence).toBe(first.fence + 1);
    const secondVersion = second.nextVersion();
    expect(firstVersions[0]).toBeLessThan(firstVersions[1]!);
    expect(firstVersions[1]).toBeLessThan(secondVersion);
    expect(fenceOfVersion(secondVersion)).toBe(second.fence);
    await second.assertHeld();
    await second.release();
  });

  it('starts above the fence the store recorded when Redis lost its counter', async () => {
    const p = prefix();
    const lease = (await tryTakeLease(redis, p, 'ds', options(41)))!;
    expect(lease.fence).toBe(42);
    await lease.release();
    await redis.del(`${p}:fence:ds`);
    const again = (await tryTakeLease(redis, p, 'ds', options(42)))!;
    expect(again.fence).toBe(43);
    await again.release();
  });

  it('a holder whose lease was taken away learns it at its next renewal: its signal aborts, its checks fail', async () => {
    const p = prefix();
    const lease = (await tryTakeLease(redis, p, 'ds', options(0, 900)))!;
    // Within a few renewal periods (300 ms each), however busy the machine.
    const aborted = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the holder was not told within 10 s')), 10_000);
      lease.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(lease.signal.reason)));
    });
    // As after a pause past the lease: it lapsed, and another holder took it.
    await redis.del(`${p}:lock:ds`);
    const other = (await tryTakeLease(redis, p, 'ds', options()))!;
    expect(other.fence).toBeGreaterThan(lease.fence);
    const reason = await aborted;
    expect(reason).toMatchObject({ code: 'LEASE_LOST', retryable: true });
    await expect(lease.assertHeld()).rejects.toMatchObject({ code: 'LEASE_LOST' });
    // Its release does not release the other holder's lease.
    await lease.release();
    expect(await tryTakeLease(redis, p, 'ds', options())).toBeUndefined();
    await other.assertHeld();
    await other.release();
  });

  it('a check finds a lease that another holder took before any renewal ran', async () => {
    const p = prefix();
    const lease = (await tryTakeLease(redis, p, 'ds', options(0, 60_000)))!;
    await redis.del(`${p}:lock:ds`);
    const other = (await tryTakeLease(redis, p, 'ds', options()))!;
    await expect(lease.assertHeld()).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(lease.signal.aborted).toBe(true);
    await other.release();
    await lease.release();
  });

  it('a holder on this machine whose process is gone is broken at once', async () => {
    const p = prefix();
    const child = spawn(process.execPath, ['-e', '']);
    const pid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    await redis.set(`${p}:lock:ds`, `${hostname()}:${pid}:gone|7`, 'PX', 60_000);
    const lease = (await tryTakeLease(redis, p, 'ds', options()))!;
    expect(lease).toBeDefined();
    await lease.release();
  });
});
