import type { ClickHouseClient } from '@clickhouse/client';
import type { ObjectRef } from '../../bucket/list-objects.js';
import { now } from '../../clock.js';
import { INTERNAL_TABLES, objectStatusSql, toDateTime64 } from '../../store/internal-tables.js';
import { insertRows, selectRows } from '../../store/queries.js';
import type { VersionSource } from '../../store/versions.js';

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

/** What the ledger knows of one object version. */
export interface VersionState {
  status: ObjectStatus;
  importId: string;
  bucket: string;
  /** Attempts left `loading`, whatever the status (an attempt of a lost holder may sit beside a done one). */
  unfinished: string[];
}

/** What the ledger knows of one key: every ETag seen. */
export type LedgerState = Map<string, Map<string, VersionState>>;

/** The whole ledger of a datasource in one query, for set-based discovery. */
export async function readLedger(client: ClickHouseClient, datasource: string): Promise<LedgerState> {
  const rows = await selectRows<{ key: string; etag: string; status: ObjectStatus; import_id: string; bucket: string; unfinished: string[] }>(
    client,
    objectStatusSql('WHERE datasource = {datasource:String}'),
    { datasource },
  );
  const state: LedgerState = new Map();
  for (const row of rows) {
    let versions = state.get(row.key);
    if (!versions) state.set(row.key, (versions = new Map()));
    versions.set(row.etag, { status: row.status, importId: row.import_id, bucket: row.bucket, unfinished: row.unfinished });
  }
  return state;
}

/** An attempt a run did not finish, with the object versions it claimed. */
export interface UnfinishedAttempt {
  importId: string;
  objects: ObjectRef[];
}

/** Attempts left `loading` by runs that did not finish (a batch is one attempt over several objects). */
export function unfinishedAttempts(ledger: LedgerState): UnfinishedAttempt[] {
  const byId = new Map<string, ObjectRef[]>();
  for (const [key, versions] of ledger) {
    for (const [etag, version] of versions) {
      for (const importId of version.unfinished) {
        const objects = byId.get(importId) ?? [];
        objects.push({ bucket: version.bucket, key, etag, size: 0, lastModified: new Date(0) });
        byId.set(importId, objects);
      }
    }
  }
  return [...byId].map(([importId, objects]) => ({ importId, objects }));
}
