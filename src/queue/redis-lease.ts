import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { BucketpipeError } from '../errors.js';
import type { Lease } from '../lease.js';
import { VERSIONS_PER_FENCE, versionOf } from '../store/versions.js';

export interface LeaseOptions {
  /** How long the lease lives without renewal; renewed every third of it. */
  ttlMs: number;
  /**
   * The highest fence the store has seen for this name: Redis may have come back empty or from an
   * old snapshot, and a new token must still be larger than every token used before.
   */
  storedFence: () => Promise<number>;
  /** Told once, when the lease is lost while held. */
  onLost?: (reason: string) => void;
}

/** Default lease time; `BUCKETPIPE_LEASE_TTL_MS` changes it. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

export function leaseTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BUCKETPIPE_LEASE_TTL_MS);
  return Number.isFinite(value) && value >= 300 ? value : DEFAULT_LEASE_TTL_MS;
}

// KEYS: lock, fence. ARGV: holder, ttl, floor. The fence moves past both its own last value and the
// store's, so a Redis that lost its data never hands out a token twice.
const TAKE = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local fence = tonumber(redis.call('get', KEYS[2]) or '0')
local floor = tonumber(ARGV[3])
if fence < floor then fence = floor end
fence = fence + 1
redis.call('set', KEYS[2], fence)
redis.call('set', KEYS[1], ARGV[1] .. '|' .. string.format('%d', fence), 'PX', ARGV[2])
return fence`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Takes the lease `name` unless another live process holds it. A holder on this machine whose process
 * is gone (killed) is broken at once; any other holder's lease lapses after `ttlMs` without renewal.
 */
export async function tryTakeLease(redis: Redis, prefix: string, name: string, options: LeaseOptions): Promise<Lease | undefined> {
  const key = `${prefix}:lock:${name}`;
  const fenceKey = `${prefix}:fence:${name}`;
  const holder = `${hostname()}:${process.pid}`;
  const current = await redis.get(key);
  if (current !== null) {
    if (!holderIsGone(current)) return undefined;
    await redis.eval(RELEASE, 1, key, current);
  }
  const floor = await options.storedFence();
  const token = `${holder}:${randomUUID()}`;
  const fence = Number(await redis.eval(TAKE, 2, key, fenceKey, token, String(options.ttlMs), String(floor)));
  if (!fence) return undefined;
  return holdLease(redis, { key, name, holder, fence, value: `${token}|${fence}` }, options);
}

function holdLease(redis: Redis, held: { key: string; name: string; holder: string; fence: number; value: string }, options: LeaseOptions): Lease {
  const abort = new AbortController();
  let sequence = 0;
  let released = false;
  const lose = (reason: string) => {
    if (abort.signal.aborted || released) return;
    abort.abort(new BucketpipeError('LEASE_LOST', `the run lost its hold on ${held.name} (${reason}); it stopped so that the run that took over is the only one writing.`));
    clearInterval(timer);
    options.onLost?.(reason);
  };
  const renew = async (): Promise<void> => {
    const renewed = await withTimeout(redis.eval(RENEW, 1, held.key, held.value, String(options.ttlMs)), options.ttlMs / 3);
    if (Number(renewed) !== 1) throw new Error('another process holds it now, or Redis lost it');
  };
  // A renewal that fails or is refused ends the hold at once: after it, nothing proves that no other
  // process has taken over.
  const timer = setInterval(() => {
    renew().catch((error: unknown) => lose(`renewal failed: ${(error as Error).message}`));
  }, Math.floor(options.ttlMs / 3));
  timer.unref();
  return {
    name: held.name,
    fence: held.fence,
    holder: held.holder,
    signal: abort.signal,
    nextVersion() {
      sequence++;
      if (sequence >= VERSIONS_PER_FENCE) throw new BucketpipeError('INTERNAL', `the run of ${held.name} wrote more than ${VERSIONS_PER_FENCE} versioned rows; run it again.`);
      return versionOf(held.fence, sequence);
    },
    async assertHeld() {
      if (abort.signal.aborted) throw abort.signal.reason;
      try {
        await renew();
      } catch (error) {
        lose(`check failed: ${(error as Error).message}`);
        throw abort.signal.reason;
      }
    },
    async release() {
      released = true;
      clearInterval(timer);
      await withTimeout(redis.eval(RELEASE, 1, held.key, held.value), 2_000).catch(() => undefined);
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${Math.round(ms)} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A holder on this machine whose process no longer exists (the value is `host:pid:uuid|fence`). */
function holderIsGone(value: string): boolean {
  const [host, pid] = value.split(':');
  if (host !== hostname() || !pid || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ESRCH';
  }
}
