import type { VersionSource } from './store/versions.js';

/**
 * The right to write for one datasource's imports (or its exports, or a push), held by one process at
 * a time across every worker. Every holder gets a fencing token larger than every token before it,
 * and every row it writes to the ledger, the ops log and the export ledger is versioned from that
 * token: a holder that lost its lease (paused, cut off from Redis) and writes late always loses to
 * the holder after it, whatever the clocks say.
 */
export interface Lease extends VersionSource {
  /** The datasource, `export:<datasource>` or `push`. */
  readonly name: string;
  /** The fencing token: larger than the token of every earlier holder of this name. */
  readonly fence: number;
  /** `host:pid`, for the ops log. */
  readonly holder: string;
  /** Aborted, with the reason, when the lease is lost: a renewal refused, or Redis silent at renewal time. */
  readonly signal: AbortSignal;
  /** Proves, in Redis, that this holder still holds the lease; throws LEASE_LOST otherwise. Call before anything irreversible. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}
