import type { ClickHouseClient } from '@clickhouse/client';
import type { ObjectRef } from '../bucket/list-objects.js';
import { INTERNAL_TABLES, nextVersion, toDateTime64 } from '../store/internal-tables.js';
import { insertRows, selectRows } from '../store/queries.js';

/**
 * Where an object stands for a datasource:
 * - `loading`: its rows may be partly in; a crash here is undone before anything else runs.
 * - `done`: its rows are in, exactly once.
 * - `failed`: its data could not be read; it is not tried again until it changes (or on --retry-failed).
 * - `retry`: a transient failure undid it; the next run takes it again.
 * - `changed`: an imported key came back with another ETag; reported, not imported again.
 */
export type ObjectStatus = 'loading' | 'done' | 'failed' | 'retry' | 'changed';

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

export async function recordObject(client: ClickHouseClient, entry: LedgerEntry): Promise<void> {
  await recordObjects(client, [entry]);
}

/** Records several entries in one insert. */
export async function recordObjects(client: ClickHouseClient, entries: readonly LedgerEntry[]): Promise<void> {
  const now = toDateTime64(new Date());
  await insertRows(
    client,
    INTERNAL_TABLES.objects,
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
      updated_at: now,
      version: nextVersion(),
    })),
  );
}

/** What the ledger knows of one key: every ETag seen and its status. */
export type LedgerState = Map<string, Map<string, { status: ObjectStatus; importId: string }>>;

/** The whole ledger of a datasource in one query, for set-based discovery. */
export async function readLedger(client: ClickHouseClient, datasource: string): Promise<LedgerState> {
  const rows = await selectRows<{ key: string; etag: string; status: ObjectStatus; import_id: string }>(
    client,
    `SELECT key, etag, argMax(status, version) AS status, argMax(import_id, version) AS import_id
     FROM ${INTERNAL_TABLES.objects} WHERE datasource = {datasource:String} GROUP BY key, etag`,
    { datasource },
  );
  const state: LedgerState = new Map();
  for (const row of rows) {
    let versions = state.get(row.key);
    if (!versions) state.set(row.key, (versions = new Map()));
    versions.set(row.etag, { status: row.status, importId: row.import_id });
  }
  return state;
}

/** Objects left in `loading` by a run that did not finish. */
export function unfinishedImports(ledger: LedgerState): Array<{ key: string; etag: string; importId: string }> {
  return [...ledger].flatMap(([key, versions]) => [...versions].filter(([, v]) => v.status === 'loading').map(([etag, v]) => ({ key, etag, importId: v.importId })));
}
