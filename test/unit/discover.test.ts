import { describe, expect, it } from 'vitest';
import type { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import type { BucketAccess } from '../../src/bucket/s3-client.js';
import { discoverObjects } from '../../src/importer/discover/discover.js';
import type { ConnectionSpec } from '../../src/project/types.js';

type Listed = { Key: string; ETag: string; Size: number; LastModified: Date };

/** A bucket that lists the given objects `pageSize` at a time, and records the requests it got. */
function fakeBucket(objects: Listed[], pageSize: number): { access: BucketAccess; requests: Array<Record<string, unknown>> } {
  const requests: Array<Record<string, unknown>> = [];
  const client = {
    async send(command: ListObjectsV2Command) {
      const input = command.input as unknown as Record<string, unknown>;
      requests.push(input);
      const start = Number(input.ContinuationToken ?? 0);
      const matching = objects.filter((o) => o.Key.startsWith(String(input.Prefix ?? '')));
      const end = start + pageSize;
      return { Contents: matching.slice(start, end), IsTruncated: end < matching.length, NextContinuationToken: String(end) };
    },
  };
  return { access: { connection: { name: 'fake' } as ConnectionSpec, client: client as unknown as BucketAccess['client'], credentials: async () => ({ accessKeyId: 'k', secretAccessKey: 's' }) }, requests };
}

const at = (second: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, second));

describe('discoverObjects, listing', () => {
  // Guards against discovery that reads only the first page of a listing (objects past it never
  // imported) or lists more than the URI's literal prefix.
  it('reads every page under the literal prefix', async () => {
    const objects = Array.from({ length: 7 }, (_, i) => ({ Key: `p/k${i}.csv`, ETag: `"e${i}"`, Size: i, LastModified: at(i) }));
    const { access, requests } = fakeBucket([...objects, { Key: 'q/k.csv', ETag: '"x"', Size: 1, LastModified: at(0) }], 3);
    const discovery = await discoverObjects(access, parseBucketUri('s3://b/p/*.csv'), new Map());
    expect(discovery.toImport.map((o) => [o.key, o.etag, o.size])).toEqual(objects.map((o, i) => [o.Key, `e${i}`, i]));
    expect(requests.map((r) => [r.Prefix, r.ContinuationToken])).toEqual([
      ['p/', undefined],
      ['p/', '3'],
      ['p/', '6'],
    ]);
  });

  // Guards against an order that depends on the listing (keys) or is unstable between runs: the
  // oldest object goes first, and objects of the same second go in key order.
  it('orders by modification time, then by key', async () => {
    const { access } = fakeBucket(
      [
        { Key: 'o/a.csv', ETag: '"1"', Size: 1, LastModified: at(5) },
        { Key: 'o/b.csv', ETag: '"2"', Size: 1, LastModified: at(1) },
        { Key: 'o/c.csv', ETag: '"3"', Size: 1, LastModified: at(5) },
        { Key: 'o/d.csv', ETag: '"4"', Size: 1, LastModified: at(1) },
        { Key: 'o/e.csv', ETag: '"5"', Size: 1, LastModified: at(0) },
      ],
      2,
    );
    const discovery = await discoverObjects(access, parseBucketUri('s3://b/o/'), new Map(), { limit: 4 });
    expect(discovery.toImport.map((o) => o.key)).toEqual(['o/e.csv', 'o/b.csv', 'o/d.csv', 'o/a.csv']);
    expect(discovery.deferred).toBe(1);
    expect(discovery.matched).toBe(5);
  });
});
