import { createHash } from 'node:crypto';
import { objectUri } from '../bucket/bucket-uri.js';
import type { ObjectRef } from '../bucket/list-objects.js';
import type { ErrorReport } from '../errors.js';
import type { Lease } from '../lease.js';
import type { Store } from '../store/create-store.js';
import { runStatement, selectRows, type QuerySettings } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { pollUntil } from '../store/poll.js';
import { alterHead, rowsAlterHead } from '../store/table-ddl.js';
import { attemptsToUndo, type LedgerState } from './discover/read-ledger.js';
import { recordObjects, type ObjectStatus } from './ledger-writes.js';
import { IMPORT_TAG_COLUMN, quarantineTableName } from '../store/table-names.js';
import { assertAccountedFor, type ObjectFigures } from './accounting.js';

/**
 * The exactly-once protocol of an import, in one place. Every rule that decides whether a row lands
 * once is here; the stages call these and nothing else writes the ledger.
 *
 * 1. An attempt gets an import id of its own: the objects' versions and the fence of the lease that
 *    loads them. No two attempts, and no two holders, ever write under the same id.
 * 2. Claim: the lease is proven held, then the attempt is recorded `loading` before any row is written.
 * 3. Rows are written tagged with the import id (the data table's hidden column, the quarantine's
 *    `c__import_id`), in blocks that replicated tables must not deduplicate away.
 * 4. Commit: every object's figures add up (records read = rows in the table + rows in quarantine +
 *    the header line), the lease is proven held after the last row is written, then the attempt is
 *    recorded `done`. Figures that do not add up fail the attempt instead: it is undone (5).
 * 5. Anything else: the attempt removes its own rows (its id is its own, so this is safe even when
 *    the lease is gone), and records why, if it still holds the lease.
 * 6. Recovery, before a run imports anything: every attempt left `loading` has its rows removed and
 *    is recorded `undone`; its objects are then new again. So has an attempt that committed an object
 *    version another attempt committed first (on a cluster, a run that read a lagging copy of the
 *    ledger): the first commit stands.
 * Ledger rows are versioned from the lease's fence: a holder that lost its lease and writes late
 * loses to the holder after it, so its late `done` cannot stand beside the new holder's `undone`.
 */

/** What an attempt needs from its run: the store, the datasource's table, and the lease it holds. */
export interface AttemptContext {
  store: Pick<Store, 'client' | 'capabilities' | 'cluster'>;
  table: string;
  lease: Lease;
}

/** One attempt at loading one object version, or a batch of small ones under one id. */
export interface Attempt {
  importId: string;
  jobId: string;
  objects: readonly ObjectRef[];
}

export function newAttempt(ctx: AttemptContext, jobId: string, objects: readonly ObjectRef[]): Attempt {
  return { importId: deriveImportId(ctx.table, ctx.lease.fence, objects), jobId, objects };
}

/**
 * The id of an attempt: the same objects under the same lease always get the same id, any other attempt another.
 * It tags every row the attempt writes, so it is kept short: 72 bits of the hash in 12 base64url
 * characters. Every row of a server load carries it over the wire, and the 28 characters it had
 * before cost a 1,000,000-row CSV import into a server about a tenth of its time; 72 bits keep a
 * collision between two attempts of one datasource below one in a million after 100 million attempts.
 */
export function deriveImportId(datasource: string, fence: number, objects: readonly ObjectRef[]): string {
  const hash = createHash('sha256').update(`${datasource}\n${fence}`);
  for (const object of objects) hash.update(`\n${object.bucket}\n${object.key}\n${object.etag}`);
  return hash.digest().subarray(0, IMPORT_ID_BYTES).toString('base64url');
}

const IMPORT_ID_BYTES = 9;

/** Proves the lease, then records the attempt `loading`: from here a crash leaves something to undo. */
export async function claim(ctx: AttemptContext, attempt: Attempt): Promise<void> {
  await ctx.lease.assertHeld();
  await record(ctx, attempt, 'loading');
}

/**
 * Checks that every record of every object is accounted for, proves the lease after the last row is
 * written, then records the attempt `done` with each object's counts.
 */
export async function commit(ctx: AttemptContext, attempt: Attempt, figures: readonly ObjectFigures[]): Promise<void> {
  attempt.objects.forEach((object, i) =>
    assertAccountedFor(objectUri(object.bucket, object.key), figures[i]!, { datasource: ctx.table, bucket: object.bucket, key: object.key }),
  );
  await ctx.lease.assertHeld();
  await record(ctx, attempt, 'done', (i) => ({ rows: figures[i]!.rows, quarantined: figures[i]!.quarantined }));
}

/**
 * Removes what the attempt wrote, then, if the lease is still held, records why it ended: `retry`
 * for a transient failure (the next run takes the objects again), `failed` otherwise. Without the
 * lease nothing is recorded: the attempt stays `loading` and the holder after it undoes it again.
 */
export async function abandon(ctx: AttemptContext, attempt: Attempt, failure: ErrorReport): Promise<void> {
  await undoImport(ctx.store, ctx.table, attempt.importId);
  const status: ObjectStatus = failure.retryable ? 'retry' : 'failed';
  try {
    await ctx.lease.assertHeld();
  } catch {
    return;
  }
  await record(ctx, attempt, status, () => ({ error: failure.message }));
}

/** An attempt recovery undid, and why. */
export interface UndoneAttempt extends Attempt {
  why: 'interrupted' | 'repeated';
}

/**
 * Undoes every attempt that runs before this one left `loading`, and every attempt that committed an
 * object version another attempt had committed first (a cluster node's lagging copy of the ledger),
 * so that their objects stand loaded once. Returns the attempts undone, with their objects.
 */
export async function recoverUnfinished(ctx: AttemptContext, ledger: LedgerState, jobId: string): Promise<UndoneAttempt[]> {
  const attempts = attemptsToUndo(ledger).map((u) => ({ importId: u.importId, jobId, objects: u.objects, why: u.why }));
  for (const attempt of attempts) {
    await ctx.lease.assertHeld();
    await undoImport(ctx.store, ctx.table, attempt.importId);
    const error = attempt.why === 'interrupted' ? 'an interrupted import; its rows were removed' : 'a second load of objects another attempt had loaded; its rows were removed';
    await record(ctx, attempt, 'undone', () => ({ error }));
  }
  return attempts;
}

/** Records that an imported key came back with another ETag (reported once, not imported). */
export async function recordChanged(ctx: AttemptContext, jobId: string, object: ObjectRef): Promise<void> {
  await record(ctx, { importId: '', jobId, objects: [object] }, 'changed');
}

async function record(
  ctx: AttemptContext,
  attempt: Attempt,
  status: ObjectStatus,
  details: (index: number) => { rows?: number; quarantined?: number; error?: string } = () => ({}),
): Promise<void> {
  await recordObjects(
    ctx.store.client,
    ctx.lease,
    attempt.objects.map((object, i) => ({ object, datasource: ctx.table, importId: attempt.importId, jobId: attempt.jobId, status, ...details(i) })),
  );
}

/** Removes every row an import wrote, from the data and the quarantine table. Safe to repeat. */
export async function undoImport(store: Pick<Store, 'client' | 'capabilities' | 'cluster'>, table: string, importId: string): Promise<void> {
  await deleteTaggedRows(store, table, importId);
  await runStatement(store.client, `${alterHead(store.cluster, quarantineTableName(table), false)}DELETE WHERE c__import_id = {id:String}`, { id: importId }, mutationSettings(store));
}

/** Removes the rows an import wrote into the data table, on every shard where there are several. */
export async function deleteTaggedRows(store: Pick<Store, 'client' | 'capabilities' | 'cluster'>, table: string, importId: string): Promise<void> {
  await runStatement(store.client, `${rowsAlterHead(store.cluster, table)}DELETE WHERE ${quoteIdentifier(IMPORT_TAG_COLUMN)} = {id:String}`, { id: importId }, mutationSettings(store));
}

/**
 * Removes the rows a direct read wrote before it stopped, ahead of the split that loads the object
 * under the same import id. When this returns none of them is left: on a server that cannot wait for
 * its mutation (`mutations_sync`), the mutation is watched until it is done, so that no reader sees
 * them beside the split's rows once the object is committed.
 */
export async function removeStoppedRead(store: Pick<Store, 'client' | 'capabilities' | 'cluster'>, table: string, importId: string): Promise<void> {
  await deleteTaggedRows(store, table, importId);
  if (store.capabilities.mutationsSync) return;
  await pollUntil(
    async () => {
      const rows = await selectRows<{ n: string | number }>(
        store.client,
        'SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = {table:String} AND is_done = 0',
        { table },
      );
      return Number(rows[0]?.n ?? 0) === 0;
    },
    { firstMs: 5, maxMs: 200 },
  );
}

/**
 * Waiting is a courtesy: a mutation touches only the parts that exist when it is made, so rows
 * loaded again after it are safe either way (old servers cannot wait).
 */
function mutationSettings(store: Pick<Store, 'capabilities'>): QuerySettings {
  return store.capabilities.mutationsSync ? { mutations_sync: 2 } : {};
}

/**
 * Settings of every insert of rows into a data or quarantine table. A replicated table drops a block
 * identical to one it took before; an object loaded again after an undo must never be dropped so.
 */
export const ROW_INSERT_SETTINGS: QuerySettings = { insert_deduplicate: 0 };

/**
 * The head of a direct read's `INSERT INTO table …`: the data columns and the import tag, then the
 * SELECT of their values, the tag bound as `bp_import_id`.
 */
export function taggedInsertHead(names: readonly string[], values: readonly string[]): string {
  return `(${[...names, IMPORT_TAG_COLUMN].map(quoteIdentifier).join(', ')}) SELECT ${[...values, '{bp_import_id:String}'].join(', ')}`;
}

/**
 * The SELECT of a direct read's values and tag whose result columns are named as the table's, for a
 * server's insert of the engine's rows (Native matches columns by name). `from` is the read's
 * `FROM … WHERE …`; the values are named inside it with names of their own, so that no name of the
 * table's shadows a column the read's conditions refer to.
 */
export function taggedSelect(names: readonly string[], values: readonly string[], from: string): { sql: string; columns: string[] } {
  const columns = [...names, IMPORT_TAG_COLUMN];
  const inner = [...values, '{bp_import_id:String}'].map((v, i) => `${v} AS _bp_o${i}`).join(', ');
  return { sql: `SELECT ${columns.map((c, i) => `_bp_o${i} AS ${quoteIdentifier(c)}`).join(', ')} FROM (SELECT ${inner} ${from})`, columns };
}

/** How such an INSERT runs: the tag's value bound, and the MATERIALIZED tag column open to it. */
export function taggedInsertBinding(importId: string): { params: Record<string, string>; settings: QuerySettings } {
  return { params: { bp_import_id: importId }, settings: { insert_allow_materialized_columns: 1, ...ROW_INSERT_SETTINGS } };
}
