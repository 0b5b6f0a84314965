import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import type { ObjectRef } from '../../src/bucket/list-objects.js';
import { deriveImportId } from '../../src/importer/sync-datasource.js';

const object: ObjectRef = {
  bucket: 'my-bucket',
  key: 'events/2024/a.csv',
  etag: '9b2cf535f27731c974343645a3985328',
  size: 1024,
  lastModified: new Date('2024-01-01T00:00:00Z'),
};

describe('deriveImportId', () => {
  it('is imp_ followed by 24 hex digits', () => {
    expect(deriveImportId('events', object)).toMatch(/^imp_[0-9a-f]{24}$/);
  });

  it('is the sha256 of datasource, bucket, key and etag', () => {
    const hash = createHash('sha256').update('events\nmy-bucket\nevents/2024/a.csv\n9b2cf535f27731c974343645a3985328').digest('hex');
    expect(deriveImportId('events', object)).toBe(`imp_${hash.slice(0, 24)}`);
  });

  it('gives the same id for the same inputs', () => {
    expect(deriveImportId('events', object)).toBe(deriveImportId('events', { ...object }));
  });

  it('ignores size and modification time', () => {
    expect(deriveImportId('events', { ...object, size: 1, lastModified: new Date(0) })).toBe(deriveImportId('events', object));
  });

  it('gives a different id for a different etag', () => {
    expect(deriveImportId('events', { ...object, etag: 'd41d8cd98f00b204e9800998ecf8427e' })).not.toBe(deriveImportId('events', object));
  });

  it('gives a different id for a different datasource, bucket or key', () => {
    const base = deriveImportId('events', object);
    const others = [
      deriveImportId('events_copy', object),
      deriveImportId('events', { ...object, bucket: 'other-bucket' }),
      deriveImportId('events', { ...object, key: 'events/2024/b.csv' }),
    ];
    for (const id of others) expect(id).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });
});
