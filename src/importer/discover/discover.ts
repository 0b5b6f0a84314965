import type { BucketUri } from '../../project/bucket-uri.js';
import { keyMatcher } from '../../bucket/bucket-uri.js';
import { listObjects, type ObjectRef } from '../../bucket/list-objects.js';
import type { BucketAccess } from '../../bucket/s3-client.js';
import type { LedgerState } from './read-ledger.js';
import { oldestFirst } from './reference-object.js';

/** What a run will do with the objects under a datasource's URI. */
export interface Discovery {
  /** Objects to import in this run, oldest first (LastModified, then key). */
  toImport: ObjectRef[];
  /** New objects beyond this run's limit, left for the next runs. */
  deferred: number;
  /** Objects imported before, unchanged. */
  imported: number;
  /** Imported keys that came back with another ETag, seen for the first time: reported, not imported. */
  changed: ObjectRef[];
  /** Imported keys whose other ETag an earlier run reported already (still not imported). */
  changedBefore: ObjectRef[];
  /** Objects whose import failed before, with the same ETag (not tried again unless asked). */
  failed: ObjectRef[];
  /** All objects that match the URI. */
  matched: number;
}

export interface DiscoverOptions {
  /** At most this many objects per run; undefined = all. */
  limit?: number;
  /** Take objects that failed before, too. */
  retryFailed?: boolean;
}

/** Lists the URI's prefix once and sorts every matching object against the ledger, as sets. */
export async function discoverObjects(
  access: BucketAccess,
  uri: BucketUri,
  ledger: LedgerState,
  options: DiscoverOptions = {},
): Promise<Discovery> {
  const matches = keyMatcher(uri);
  const fresh: ObjectRef[] = [];
  const changed: ObjectRef[] = [];
  const changedBefore: ObjectRef[] = [];
  const failed: ObjectRef[] = [];
  let imported = 0;
  let matched = 0;
  for await (const page of listObjects(access, uri.bucket, uri.listPrefix)) {
    for (const object of page) {
      if (!matches(object.key)) continue;
      matched++;
      const versions = ledger.get(object.key);
      const same = versions?.get(object.etag);
      if (same?.status === 'done') imported++;
      else if (same?.status === 'changed') changedBefore.push(object);
      else if (same?.status === 'failed' && !options.retryFailed) failed.push(object);
      else if (versions && [...versions.values()].some((v) => v.status === 'done')) changed.push(object);
      else fresh.push(object);
    }
  }
  fresh.sort(oldestFirst);
  const limit = options.limit ?? fresh.length;
  return {
    toImport: fresh.slice(0, limit),
    deferred: Math.max(0, fresh.length - limit),
    imported,
    changed,
    changedBefore,
    failed,
    matched,
  };
}

/** How the matching objects stand, each counted once: the figures add up to `matched`. */
export function discoveryCounts(discovery: Discovery): { matched: number; new: number; imported: number; changed: number; failed: number } {
  return {
    matched: discovery.matched,
    new: discovery.toImport.length + discovery.deferred,
    imported: discovery.imported,
    changed: discovery.changed.length + discovery.changedBefore.length,
    failed: discovery.failed.length,
  };
}
