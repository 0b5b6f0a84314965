import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stderr, level from BUCKETPIPE_LOG_LEVEL (default `warn` for the
 * CLI). Records carry names and counts, never credentials or bound values.
 */
export function createLogger(env: NodeJS.ProcessEnv = process.env, defaultLevel = 'warn'): Logger {
  return pino({ level: env.BUCKETPIPE_LOG_LEVEL || defaultLevel, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything, for library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
