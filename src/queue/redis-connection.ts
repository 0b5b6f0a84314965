import { Redis, type RedisOptions } from 'ioredis';
import { BucketpipeError } from '../errors.js';

/** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/** The URL without its password, for messages. */
export function safeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * A Redis connection for BullMQ. Long-running processes retry forever with a capped backoff (BullMQ
 * needs `maxRetriesPerRequest: null`); commands fail fast instead of hanging on a dead server.
 */
export function connectRedis(url: string, options: { longRunning: boolean }): Redis {
  const base: RedisOptions = options.longRunning
    ? { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 500, 5000) }
    : { maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: (times) => (times > 2 ? null : 300) };
  const redis = new Redis(url, { ...base, lazyConnect: true });
  // Connection errors are reported by the caller (or retried); an unhandled 'error' event would
  // otherwise print a stack trace per attempt.
  redis.on('error', () => undefined);
  return redis;
}

/** Fails with one clear sentence when Redis does not answer. */
export async function assertRedisReachable(url: string, why?: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    const reason = (cause as { code?: string; message?: string }).code ?? (cause as Error).message;
    throw new BucketpipeError(
      'QUEUE_UNAVAILABLE',
      `Redis at ${safeRedisUrl(url)} does not answer (${reason})${why ? `; ${why}` : ''}. Start Redis (redis-server) or set REDIS_URL to a running one.`,
      { cause },
    );
  } finally {
    probe.disconnect();
  }
}
