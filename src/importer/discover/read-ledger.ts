import type { ClickHouseClient } from '@clickhouse/client';
import type { ObjectRef } from '../../bucket/list-objects.js';
import { objectStatusSql } from '../../store/internal-tables.js';
import { selectRows } from '../../store/queries.js';
import type { ObjectStatus } from '../ledger-writes.js';

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
