import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import type { ObjectRef } from '../../src/bucket/list-objects.js';
import type { BucketAccess } from '../../src/bucket/s3-client.js';
import { discoverObjects, discoveryCounts, type Discovery } from '../../src/importer/discover/discover.js';
import type { LedgerState } from '../../src/importer/discover/read-ledger.js';
import type { ObjectStatus } from '../../src/importer/ledger-writes.js';
import type { ConnectionSpec } from '../../src/project/types.js';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { s3Endpoint } from '../helpers/embedded.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

/**
 * Discovery against a real bucket (s3rver) and ledgers built in the test: which listed objects a run
 * takes, in which order, and how the others are counted.
 */

const etagOf = (body: string) => createHash('md5').update(body).digest('hex');
const bodyOf = (key: string) => `src,n\n${key},1\n`;

describe('discoverObjects', () => {
  const s3 = s3Client(s3Endpoint());
  const access: BucketAccess = {
    connection: { name: 'local' } as ConnectionSpec,
    client: s3,
    credentials: async () => ({ accessKeyId: S3_KEY, secretAccessKey: S3_SECRET }),
  };
  let bucket: string;
  /** Ledger states of the keys under d/, by key: [etag, status] pairs. */
  let ledger: LedgerState;

  const keys = (objects: readonly ObjectRef[]) => objects.map((o) => o.key);

  beforeAll(async () => {
    bucket = await createBucket(s3);
    // Written one after the other, in key order: their times never decrease along the keys.
    const first = ['d/changed-before.csv', 'd/changed.csv', 'd/done.csv', 'd/failed.csv', 'd/loading.csv', 'd/retry.csv', 'd/undone.csv', 'd/sub/deep.csv', 'd/notes.txt', 'e/done.csv'];
    await putObjects(s3, bucket, Object.fromEntries(first.map((k) => [k, bodyOf(k)])));
    // zz-new is at least as new as the others and sorts after them; aa-new is strictly newer (a
    // second later: s3rver's times have whole seconds) and sorts first by key, so only time puts it last.
    await putObjects(s3, bucket, { 'd/zz-new.csv': bodyOf('d/zz-new.csv'), 'd/aa-new.csv': bodyOf('d/aa-new.csv') }, { spaced: true });
    const states: Array<[key: string, versions: Array<[etag: string, status: ObjectStatus]>]> = [
      ['d/done.csv', [[etagOf(bodyOf('d/done.csv')), 'done']]],
      // Imported once with other content; the content now listed is another version.
      ['d/changed.csv', [['0ld', 'done']]],
      ['d/changed-before.csv', [['0ld', 'done'], [etagOf(bodyOf('d/changed-before.csv')), 'changed']]],
      ['d/failed.csv', [[etagOf(bodyOf('d/failed.csv')), 'failed']]],
      ['d/retry.csv', [[etagOf(bodyOf('d/retry.csv')), 'retry']]],
      ['d/undone.csv', [[etagOf(bodyOf('d/undone.csv')), 'undone']]],
      ['d/loading.csv', [[etagOf(bodyOf('d/loading.csv')), 'loading']]],
      // A key that is no longer in the bucket counts nowhere.
      ['d/deleted.csv', [['gone', 'done']]],
    ];
    ledger = new Map(states.map(([key, versions]) => [key, new Map(versions.map(([etag, status]) => [etag, { status, importId: `imp_${key}`, bucket, unfinished: [], committed: status === 'done' ? [`imp_${key}`] : [] }]))]));
  });

  const discover = (options = {}): Promise<Discovery> => discoverObjects(access, parseBucketUri(`s3://${bucket}/d/*.csv`), ledger, options);

  // Guards against objects imported twice (done taken again), lost (retry, undone or loading never
  // taken again), re-imported when they changed, retried without being asked, or taken from outside
  // the URI's pattern; and against an order other than oldest first, then key.
  it('takes new, retried and undone objects, oldest first, and sorts the rest out', async () => {
    const discovery = await discover();
    expect(keys(discovery.toImport)).toEqual(['d/loading.csv', 'd/retry.csv', 'd/undone.csv', 'd/zz-new.csv', 'd/aa-new.csv']);
    expect(discovery.toImport.every((o) => o.bucket === bucket && o.size === bodyOf(o.key).length && o.etag === etagOf(bodyOf(o.key)))).toBe(true);
    expect(discovery.deferred).toBe(0);
    expect(discovery.imported).toBe(1);
    expect(keys(discovery.changed)).toEqual(['d/changed.csv']);
    expect(discovery.changed[0]?.etag).toBe(etagOf(bodyOf('d/changed.csv')));
    expect(keys(discovery.changedBefore)).toEqual(['d/changed-before.csv']);
    expect(keys(discovery.failed)).toEqual(['d/failed.csv']);
    expect(discovery.matched).toBe(9);
    // Each matched object is counted once, in exactly one figure.
    expect(discoveryCounts(discovery)).toEqual({ matched: 9, new: 5, imported: 1, changed: 2, failed: 1 });
  });

  // Guards against --retry-failed being ignored, or taking objects that did not fail (done, changed).
  it('takes failed objects again when asked, in their place in the order', async () => {
    const discovery = await discover({ retryFailed: true });
    expect(keys(discovery.toImport)).toEqual(['d/failed.csv', 'd/loading.csv', 'd/retry.csv', 'd/undone.csv', 'd/zz-new.csv', 'd/aa-new.csv']);
    expect(discovery.failed).toEqual([]);
    expect(keys(discovery.changed)).toEqual(['d/changed.csv']);
    expect(discoveryCounts(discovery)).toEqual({ matched: 9, new: 6, imported: 1, changed: 2, failed: 0 });
  });

  // Guards against a limit that takes the newest objects (the oldest would wait for ever) or loses the
  // ones beyond it from the counts.
  it('takes the oldest objects up to the limit and counts the rest as deferred', async () => {
    const discovery = await discover({ limit: 2 });
    expect(keys(discovery.toImport)).toEqual(['d/loading.csv', 'd/retry.csv']);
    expect(discovery.deferred).toBe(3);
    expect(discoveryCounts(discovery)).toEqual({ matched: 9, new: 5, imported: 1, changed: 2, failed: 1 });
  });

  // Guards against a ledger being read as another datasource's: with nothing recorded, everything is new.
  it('finds every matching object new on an empty ledger', async () => {
    const discovery = await discoverObjects(access, parseBucketUri(`s3://${bucket}/d/**`), new Map());
    expect(keys(discovery.toImport).sort()).toEqual(
      ['d/aa-new.csv', 'd/changed-before.csv', 'd/changed.csv', 'd/done.csv', 'd/failed.csv', 'd/loading.csv', 'd/notes.txt', 'd/retry.csv', 'd/sub/deep.csv', 'd/undone.csv', 'd/zz-new.csv'],
    );
    expect(keys(discovery.toImport).at(-1)).toBe('d/aa-new.csv');
    expect(discoveryCounts(discovery)).toEqual({ matched: 11, new: 11, imported: 0, changed: 0, failed: 0 });
  });
});
