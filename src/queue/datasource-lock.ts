import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** A held lock: renewed in the background until released. */
export interface DatasourceLock {
  release(): Promise<void>;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * One run at a time per datasource, across every worker process on the same Redis. The lock expires
 * by itself if its holder dies (after `ttlMs`); a holder on this machine whose process is gone
 * (killed) is broken at once, so a restarted worker does not wait for the expiry.
 */
export async function tryLockDatasource(redis: Redis, prefix: string, datasource: string, ttlMs = 30_000): Promise<DatasourceLock | undefined> {
  const key = `${prefix}:lock:${datasource}`;
  const token = `${hostname()}:${process.pid}:${randomUUID()}`;
  let acquired = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (acquired !== 'OK') {
    const holder = await redis.get(key);
    if (holder && holderIsGone(holder)) {
      await redis.eval(RELEASE, 1, key, holder);
      acquired = await redis.set(key, token, 'PX', ttlMs, 'NX');
    }
  }
  if (acquired !== 'OK') return undefined;
  const timer = setInterval(() => {
    redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined);
  }, Math.floor(ttlMs / 3));
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}

function holderIsGone(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ESRCH';
  }
}
