import type { ClickHouseClient } from '@clickhouse/client';
import type { ObjectRef } from '../bucket/list-objects.js';
import { now } from '../clock.js';
import { INTERNAL_TABLES, toDateTime64 } from '../store/internal-tables.js';
import { insertRows } from '../store/queries.js';
import type { VersionSource } from '../store/versions.js';

/**
 * Where an import attempt of an object version stands:
 * - `loading`: its rows may be partly in; the next run undoes them before anything else.
 * - `done`: its rows are in, exactly once.
 * - `failed`: the data could not be read; not tried again until the object changes (or on --retry-failed).
 * - `retry`: a transient failure; the attempt removed its rows, and the next run takes the object again.
 * - `undone`: left `loading` by a run that did not finish; a later run removed its rows.
 * - `changed`: an imported key came back with another ETag; reported, not imported again.
 */
export type ObjectStatus = 'loading' | 'done' | 'failed' | 'retry' | 'undone' | 'changed';

export interface LedgerEntry {
  object: ObjectRef;
  datasource: string;
  importId: string;
  jobId: string;
  status: ObjectStatus;
  rows?: number;
  quarantined?: number;
  error?: string;
}

/** Records entries in one insert, each versioned by the writer's lease. */
export async function recordObjects(client: ClickHouseClient, versions: VersionSource, entries: readonly LedgerEntry[]): Promise<void> {
  const time = toDateTime64(now());
  await insertRows(
    client,
    INTERNAL_TABLES.ledger,
    entries.map((entry) => ({
      datasource: entry.datasource,
      key: entry.object.key,
      etag: entry.object.etag,
      bucket: entry.object.bucket,
      size: entry.object.size,
      last_modified: toDateTime64(entry.object.lastModified),
      import_id: entry.importId,
      job_id: entry.jobId,
      status: entry.status,
      rows: entry.rows ?? 0,
      quarantined: entry.quarantined ?? 0,
      error: entry.error ?? '',
      updated_at: time,
      version: versions.nextVersion(),
    })),
  );
}
