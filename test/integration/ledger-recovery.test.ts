import { describe, expect, it } from 'vitest';
import type { ObjectRef } from '../../src/bucket/list-objects.js';
import { BucketpipeError } from '../../src/errors.js';
import type { Lease } from '../../src/lease.js';
import { claim, commit, newAttempt, recoverUnfinished, taggedInsertBinding, taggedInsertHead, type Attempt, type AttemptContext } from '../../src/importer/commit.js';
import { readLedger, attemptsToUndo } from '../../src/importer/discover/read-ledger.js';
import { IMPORT_TAG_COLUMN } from '../../src/store/table-names.js';
import type { Store } from '../../src/store/create-store.js';
import { insertRows, runStatement } from '../../src/store/queries.js';
import { versionOf } from '../../src/store/versions.js';
import type { App } from '../../src/app.js';
import { query } from '../helpers/embedded.js';
import { withPushedProject } from '../helpers/pushed-project.js';

/**
 * The ledger's recovery on the embedded engine: how the ledger folds the writes about each attempt
 * into one state per object version, and how a run undoes the attempts that earlier runs left
 * `loading`. Rows are written here as the import writes them (tagged with their attempt's id), so
 * that what recovery removes, and what it leaves, can be read back.
 */

/** A lease held by the test: the fence decides the versions of the ledger rows, `lose()` takes it away. */
function testLease(fence: number): Lease & { lose(): void } {
  let sequence = 0;
  const abort = new AbortController();
  return {
    name: 'test',
    fence,
    holder: `test:${fence}`,
    signal: abort.signal,
    nextVersion: () => versionOf(fence, ++sequence),
    async assertHeld() {
      if (abort.signal.aborted) throw new BucketpipeError('LEASE_LOST', `the test took lease ${fence} away`);
    },
    async release() {},
    lose: () => abort.abort(),
  };
}

const objectRef = (bucket: string, key: string, etag: string): ObjectRef => ({ bucket, key, etag, size: 10, lastModified: new Date('2024-01-01T00:00:00Z') });

const SCHEMA = '    `src` String,\n    `n` UInt32';

describe('ledger recovery', () => {
  let bucket: string;
  let app: App;
  let store: Store;
  withPushedProject({ rec_plain: SCHEMA, rec_beside: SCHEMA, rec_twice: SCHEMA, rec_late: SCHEMA, rec_lost: SCHEMA }, (pushed) => ({ bucket, app, store } = pushed));

  const context = (table: string, lease: Lease): AttemptContext => ({ store, table, lease });

  /** Writes rows of an attempt into the data table (tagged) and one into the quarantine, as a load does. */
  async function writeRows(table: string, attempt: Attempt, rows: number): Promise<void> {
    const { params, settings } = taggedInsertBinding(attempt.importId);
    const head = taggedInsertHead(['src', 'n'], ['{src:String}', 'toUInt32(number)']);
    await runStatement(store.client, `INSERT INTO ${table} ${head} FROM numbers(${rows})`, { ...params, src: attempt.importId }, settings);
    await insertRows(store.client, `${table}_quarantine`, [
      { src: attempt.importId, n: 'x', c__error_column: ['n'], c__error: ['n: not a number'], c__import_id: attempt.importId, c__source: 's3://x', c__row: 9, c__raw: null },
    ]);
  }

  /** Rows by attempt id, in the data table and in the quarantine. */
  async function rowsByAttempt(table: string): Promise<{ data: Record<string, number>; quarantine: Record<string, number> }> {
    const data = await query<{ id: string; n: number }>(app, `SELECT ${IMPORT_TAG_COLUMN} AS id, count() AS n FROM ${table} GROUP BY id ORDER BY id`);
    const quarantine = await query<{ id: string; n: number }>(app, `SELECT c__import_id AS id, count() AS n FROM ${table}_quarantine GROUP BY id ORDER BY id`);
    const byId = (rows: Array<{ id: string; n: number }>) => Object.fromEntries(rows.map((r) => [r.id, Number(r.n)]));
    return { data: byId(data), quarantine: byId(quarantine) };
  }

  // Guards against a crashed run's rows staying in the tables (counted twice once the object is loaded
  // again), against rows of committed attempts being removed with them, and against recovery that
  // does not record its work (the next run would undo again, or never load the object).
  it('undoes an attempt left loading: its rows leave both tables, it is recorded undone, its object is new again', async () => {
    const table = 'rec_plain';
    const crashed = context(table, testLease(1));
    const left = newAttempt(crashed, 'job-1', [objectRef(bucket, 'rec_plain/a.csv', 'ea')]);
    const committed = newAttempt(crashed, 'job-1', [objectRef(bucket, 'rec_plain/b.csv', 'eb')]);
    await claim(crashed, committed);
    await writeRows(table, committed, 3);
    await commit(crashed, committed, [{ records: 5, headerLines: 1, rows: 3, quarantined: 1 }]);
    await claim(crashed, left);
    await writeRows(table, left, 4);

    const before = await readLedger(store.client, table);
    expect(before.get('rec_plain/a.csv')?.get('ea')).toEqual({ status: 'loading', importId: left.importId, bucket, unfinished: [left.importId], committed: [] });
    expect(before.get('rec_plain/b.csv')?.get('eb')).toEqual({ status: 'done', importId: committed.importId, bucket, unfinished: [], committed: [committed.importId] });
    expect(await rowsByAttempt(table)).toEqual({
      data: { [committed.importId]: 3, [left.importId]: 4 },
      quarantine: { [committed.importId]: 1, [left.importId]: 1 },
    });

    const undone = await recoverUnfinished(context(table, testLease(2)), before, 'job-2');
    expect(undone.map((a) => [a.importId, a.jobId, a.objects.map((o) => [o.bucket, o.key, o.etag])])).toEqual([
      [left.importId, 'job-2', [[bucket, 'rec_plain/a.csv', 'ea']]],
    ]);
    expect(await rowsByAttempt(table)).toEqual({ data: { [committed.importId]: 3 }, quarantine: { [committed.importId]: 1 } });

    const after = await readLedger(store.client, table);
    expect(after.get('rec_plain/a.csv')?.get('ea')).toEqual({ status: 'undone', importId: left.importId, bucket, unfinished: [], committed: [] });
    expect(after.get('rec_plain/b.csv')?.get('eb')?.status).toBe('done');
    expect(attemptsToUndo(after)).toEqual([]);
    const [reason] = await query<{ job_id: string; error: string }>(
      app,
      `SELECT job_id, error FROM _bucketpipe_ledger FINAL WHERE datasource = {table:String} AND import_id = {id:String}`,
      { table, id: left.importId },
    );
    expect(reason).toEqual({ job_id: 'job-2', error: 'an interrupted import; its rows were removed' });
  });

  // Guards against the object's `done` hiding an attempt a lost holder left loading: that attempt's
  // rows would stay beside the committed ones, and the object would count twice.
  it('undoes a lost holder attempt that sits beside a committed attempt of the same object, and only it', async () => {
    const table = 'rec_beside';
    const object = objectRef(bucket, 'rec_beside/a.csv', 'ea');
    const lost = context(table, testLease(1));
    const lostAttempt = newAttempt(lost, 'job-1', [object]);
    await claim(lost, lostAttempt);
    await writeRows(table, lostAttempt, 2);
    const next = context(table, testLease(2));
    const nextAttempt = newAttempt(next, 'job-2', [object]);
    expect(nextAttempt.importId).not.toBe(lostAttempt.importId);
    await claim(next, nextAttempt);
    await writeRows(table, nextAttempt, 5);
    await commit(next, nextAttempt, [{ records: 7, headerLines: 1, rows: 5, quarantined: 1 }]);

    const ledger = await readLedger(store.client, table);
    expect(ledger.get(object.key)?.get('ea')).toEqual({ status: 'done', importId: nextAttempt.importId, bucket, unfinished: [lostAttempt.importId], committed: [nextAttempt.importId] });
    const undone = await recoverUnfinished(context(table, testLease(3)), ledger, 'job-3');
    expect(undone.map((a) => a.importId)).toEqual([lostAttempt.importId]);
    expect(await rowsByAttempt(table)).toEqual({ data: { [nextAttempt.importId]: 5 }, quarantine: { [nextAttempt.importId]: 1 } });
    const [folded] = await query<{ status: string; import_id: string; rows: number; unfinished: string[] }>(
      app,
      `SELECT status, import_id, rows, unfinished FROM _bucketpipe_objects WHERE datasource = {table:String}`,
      { table },
    );
    expect(folded).toEqual({ status: 'done', import_id: nextAttempt.importId, rows: 5, unfinished: [] });
  });

  // Guards against an object that stays loaded twice: on a cluster, a run that read a copy of the
  // ledger lacking another node's commit loads the object again; the first commit stands.
  it('undoes an attempt that committed an object another attempt had committed first, and only it', async () => {
    const table = 'rec_twice';
    const object = objectRef(bucket, 'rec_twice/a.csv', 'ea');
    const first = context(table, testLease(1));
    const firstAttempt = newAttempt(first, 'job-1', [object]);
    await claim(first, firstAttempt);
    await writeRows(table, firstAttempt, 3);
    await commit(first, firstAttempt, [{ records: 5, headerLines: 1, rows: 3, quarantined: 1 }]);
    const second = context(table, testLease(2));
    const secondAttempt = newAttempt(second, 'job-2', [object]);
    await claim(second, secondAttempt);
    await writeRows(table, secondAttempt, 3);
    await commit(second, secondAttempt, [{ records: 5, headerLines: 1, rows: 3, quarantined: 1 }]);

    const ledger = await readLedger(store.client, table);
    expect(ledger.get(object.key)?.get('ea')?.committed).toEqual([firstAttempt.importId, secondAttempt.importId]);
    const undone = await recoverUnfinished(context(table, testLease(3)), ledger, 'job-3');
    expect(undone.map((a) => [a.importId, a.why])).toEqual([[secondAttempt.importId, 'repeated']]);
    expect(await rowsByAttempt(table)).toEqual({ data: { [firstAttempt.importId]: 3 }, quarantine: { [firstAttempt.importId]: 1 } });
    const after = (await readLedger(store.client, table)).get(object.key)?.get('ea');
    expect(after).toEqual({ status: 'done', importId: firstAttempt.importId, bucket, unfinished: [], committed: [firstAttempt.importId] });
  });

  // Guards against versions that do not follow the fence (e.g. clock times): a holder that lost its
  // lease and commits after the next holder undid its attempt would make rows that are gone count as imported.
  it('a late commit of a holder that lost its lease loses to the undo of the holder after it', async () => {
    const table = 'rec_late';
    const object = objectRef(bucket, 'rec_late/a.csv', 'ea');
    const paused = context(table, testLease(1));
    const attempt = newAttempt(paused, 'job-1', [object]);
    // The ledger keeps the newest write of an attempt once its parts merge: merges wait until the
    // writes are read, so that the late `done` is seen to have landed.
    await runStatement(store.client, 'SYSTEM STOP MERGES _bucketpipe_ledger');
    let writes: Array<{ status: string }>;
    try {
      await claim(paused, attempt);
      await writeRows(table, attempt, 3);
      await recoverUnfinished(context(table, testLease(2)), await readLedger(store.client, table), 'job-2');
      // The paused holder wakes between its lease check and its ledger write: the write lands.
      await commit(paused, attempt, [{ records: 5, headerLines: 1, rows: 3, quarantined: 1 }]);
      writes = await query<{ status: string }>(app, `SELECT status FROM _bucketpipe_ledger WHERE datasource = {table:String} ORDER BY updated_at, version`, { table });
    } finally {
      await runStatement(store.client, 'SYSTEM START MERGES _bucketpipe_ledger');
    }
    expect(writes.map((w) => w.status).sort()).toEqual(['done', 'loading', 'undone']);
    const state = (await readLedger(store.client, table)).get(object.key)?.get('ea');
    expect(state).toEqual({ status: 'undone', importId: attempt.importId, bucket, unfinished: [], committed: [] });
    expect(await rowsByAttempt(table)).toEqual({ data: {}, quarantine: {} });
  });

  // Guards against a run that lost its lease undoing (or recording) anything: the holder after it
  // owns the recovery now, and a second writer could undo rows of an attempt it is committing.
  it('a run that does not hold its lease undoes nothing and records nothing', async () => {
    const table = 'rec_lost';
    const crashed = context(table, testLease(1));
    const attempt = newAttempt(crashed, 'job-1', [objectRef(bucket, 'rec_lost/a.csv', 'ea')]);
    await claim(crashed, attempt);
    await writeRows(table, attempt, 2);
    const lease = testLease(2);
    lease.lose();
    await expect(recoverUnfinished(context(table, lease), await readLedger(store.client, table), 'job-2')).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await rowsByAttempt(table)).toEqual({ data: { [attempt.importId]: 2 }, quarantine: { [attempt.importId]: 1 } });
    expect((await readLedger(store.client, table)).get('rec_lost/a.csv')?.get('ea')).toEqual({ status: 'loading', importId: attempt.importId, bucket, unfinished: [attempt.importId], committed: [] });
  });
});
