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
  /** Attempts that committed it, first commit first. */
  committed: string[];
}

/** What the ledger knows of one key: every ETag seen. */
export type LedgerState = Map<string, Map<string, VersionState>>;

/** The whole ledger of a datasource in one query, for set-based discovery. */
export async function readLedger(client: ClickHouseClient, datasource: string): Promise<LedgerState> {
  const rows = await selectRows<{
    key: string;
    etag: string;
    status: ObjectStatus;
    import_id: string;
    bucket: string;
    unfinished: string[];
    committed: string[];
    committed_versions: Array<string | number>;
  }>(
    client,
    objectStatusSql('WHERE datasource = {datasource:String}'),
    { datasource },
  );
  const state: LedgerState = new Map();
  for (const row of rows) {
    let versions = state.get(row.key);
    if (!versions) state.set(row.key, (versions = new Map()));
    const commits = row.committed.map((importId, i) => ({ importId, version: BigInt(row.committed_versions[i]!) }));
    commits.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
    versions.set(row.etag, { status: row.status, importId: row.import_id, bucket: row.bucket, unfinished: row.unfinished, committed: commits.map((c) => c.importId) });
  }
  return state;
}

/** An attempt whose rows must be removed, with the object versions it claimed. */
export interface UnfinishedAttempt {
  importId: string;
  objects: ObjectRef[];
  /** Left `loading` by a run that did not finish, or a second commit of an object version another attempt committed first. */
  why: 'interrupted' | 'repeated';
}

/**
 * The attempts the next run undoes (a batch is one attempt over several objects):
 * - attempts left `loading` by runs that did not finish;
 * - attempts that committed an object version another attempt had committed first. That happens
 *   only on a cluster, when a run read a copy of the ledger that lacked the first commit (the node
 *   that held it was down); the first commit stands, the repeated one is undone with every object it
 *   loaded, and those it alone loaded are imported again.
 */
export function attemptsToUndo(ledger: LedgerState): UnfinishedAttempt[] {
  const repeated = new Set<string>();
  for (const versions of ledger.values()) for (const version of versions.values()) version.committed.slice(1).forEach((id) => repeated.add(id));
  const byId = new Map<string, UnfinishedAttempt>();
  const add = (importId: string, why: UnfinishedAttempt['why'], object: ObjectRef) => {
    const attempt = byId.get(importId) ?? { importId, objects: [], why };
    if (!attempt.objects.some((o) => o.key === object.key && o.etag === object.etag)) attempt.objects.push(object);
    byId.set(importId, attempt);
  };
  for (const [key, versions] of ledger) {
    for (const [etag, version] of versions) {
      const object = { bucket: version.bucket, key, etag, size: 0, lastModified: new Date(0) };
      for (const importId of version.unfinished) add(importId, 'interrupted', object);
      for (const importId of version.committed) if (repeated.has(importId)) add(importId, 'repeated', object);
    }
  }
  return [...byId.values()];
}
