import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countWrittenRows, markWrites } from '../../src/importer/load/written-rows.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { runStatement, selectRows } from '../../src/store/queries.js';

/** Rows `from ≤ n < from + count` inserted in blocks of `block` rows (one part each), tagged `tag`. */
async function insertTagged(store: Store, tag: string, from: number, count: number, block: number): Promise<void> {
  await runStatement(
    store.client,
    `INSERT INTO t (n, _bp_import_id) SELECT number, {tag:String} FROM numbers({from:UInt64}, {count:UInt64})`,
    { tag, from, count },
    { insert_allow_materialized_columns: 1, min_insert_block_size_rows: block, max_block_size: block },
  );
}

async function activeParts(store: Store): Promise<number> {
  const [row] = await selectRows<{ n: string }>(store.client, `SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 't' AND active`);
  return Number(row!.n);
}

describe('rows written by one insert', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bucketpipe-written-'));
    store = await createStore({ dataDir: join(dir, 'data'), role: 'worker' });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the new parts alone, and reads the tags once a merge has joined a new part to an old one', async () => {
    await runStatement(store.client, `CREATE TABLE t (n UInt64, _bp_import_id String MATERIALIZED '') ENGINE = MergeTree ORDER BY n`);
    await runStatement(store.client, 'SYSTEM STOP MERGES t');
    await insertTagged(store, 'old', 0, 3000, 1000);
    const mark = await markWrites(store.client, 't');
    await insertTagged(store, 'new', 3000, 2500, 1000);
    expect(await activeParts(store)).toBeGreaterThan(2);
    expect(await countWrittenRows(store.client, 't', 'new', mark)).toBe(2500);

    // One part of old and new rows: its row count alone would say nothing of the new ones.
    await runStatement(store.client, 'SYSTEM START MERGES t');
    await runStatement(store.client, 'OPTIMIZE TABLE t FINAL');
    expect(await activeParts(store)).toBe(1);
    expect(await countWrittenRows(store.client, 't', 'new', mark)).toBe(2500);
  });
});
