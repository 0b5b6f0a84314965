import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import type { ObjectRef } from '../../src/bucket/list-objects.js';
import { deriveImportId } from '../../src/importer/commit.js';

const object: ObjectRef = {
  bucket: 'my-bucket',
  key: 'events/2024/a.csv',
  etag: '9b2cf535f27731c974343645a3985328',
  size: 1024,
  lastModified: new Date('2024-01-01T00:00:00Z'),
};

describe('deriveImportId', () => {
  it('is 12 base64url characters: it tags every row an attempt writes', () => {
    expect(deriveImportId('events', 7, [object])).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('is the sha256 of datasource, fence, bucket, key and etag', () => {
    const hash = createHash('sha256').update('events\n7\nmy-bucket\nevents/2024/a.csv\n9b2cf535f27731c974343645a3985328').digest();
    expect(deriveImportId('events', 7, [object])).toBe(hash.subarray(0, 9).toString('base64url'));
  });

  it('gives the same id for the same inputs: a retry under the same lease is the same attempt', () => {
    expect(deriveImportId('events', 7, [object])).toBe(deriveImportId('events', 7, [{ ...object }]));
  });

  it('ignores size and modification time', () => {
    expect(deriveImportId('events', 7, [{ ...object, size: 1, lastModified: new Date(0) }])).toBe(deriveImportId('events', 7, [object]));
  });

  it('gives another id under another lease: two holders never write under one id', () => {
    expect(deriveImportId('events', 8, [object])).not.toBe(deriveImportId('events', 7, [object]));
  });

  it('gives a different id for a different etag, datasource, bucket or key', () => {
    const base = deriveImportId('events', 7, [object]);
    const others = [
      deriveImportId('events', 7, [{ ...object, etag: 'd41d8cd98f00b204e9800998ecf8427e' }]),
      deriveImportId('events_copy', 7, [object]),
      deriveImportId('events', 7, [{ ...object, bucket: 'other-bucket' }]),
      deriveImportId('events', 7, [{ ...object, key: 'events/2024/b.csv' }]),
    ];
    for (const id of others) expect(id).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });

  it('covers every object of a batch', () => {
    const second = { ...object, key: 'events/2024/b.csv' };
    expect(deriveImportId('events', 7, [object, second])).not.toBe(deriveImportId('events', 7, [object]));
  });
});
