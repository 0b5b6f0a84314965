import { describe, expect, inject, it } from 'vitest';
import { createBucketAccess } from '../../src/bucket/s3-client.js';
import { listObjects } from '../../src/bucket/list-objects.js';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { localConnection } from '../helpers/project.js';
import { parseConnection } from '../../src/project/parse-connection.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

describe('listing a prefix', () => {
  it('follows continuation tokens across pages and returns every object once, without folders', async () => {
    const endpoint = inject('s3Endpoint');
    const s3 = s3Client(endpoint);
    const bucket = await createBucket(s3);
    const keys = Array.from({ length: 7 }, (_, i) => `logs/day-${i}.csv`);
    await putObjects(s3, bucket, Object.fromEntries([...keys.map((k) => [k, 'a\n1\n']), ['logs/folder/', ''], ['other/x.csv', 'a\n']]));
    const connection = parseConnection(localConnection(endpoint), 'connections/local.connection', 'local').spec!;
    const access = createBucketAccess(connection, { S3_ACCESS_KEY: S3_KEY, S3_SECRET });
    const pages: string[][] = [];
    for await (const page of listObjects(access, bucket, 'logs/', 3)) pages.push(page.map((o) => o.key));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.flat().sort()).toEqual([...keys].sort());
    const one = (await listObjects(access, bucket, 'logs/day-3').next()).value!;
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ bucket, key: 'logs/day-3.csv', size: 4 });
    expect(one[0]!.etag).toMatch(/^[0-9a-f]{32}$/);
    access.client.destroy();
  });
});
