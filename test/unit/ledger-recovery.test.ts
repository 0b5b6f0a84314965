import { describe, expect, it } from 'vitest';
import { attemptsToUndo, type LedgerState, type VersionState } from '../../src/importer/discover/read-ledger.js';

/** A ledger as readLedger folds it: key → etag → state. */
function ledgerOf(entries: Array<[key: string, etag: string, state: Partial<VersionState>]>): LedgerState {
  const ledger: LedgerState = new Map();
  for (const [key, etag, state] of entries) {
    const versions = ledger.get(key) ?? new Map<string, VersionState>();
    versions.set(etag, { status: 'done', importId: 'imp_x', bucket: 'b', unfinished: [], committed: [], ...state });
    ledger.set(key, versions);
  }
  return ledger;
}

const refs = (attempt: { objects: Array<{ bucket: string; key: string; etag: string }> } | undefined) =>
  attempt?.objects.map((o) => `${o.bucket}/${o.key}@${o.etag}`).sort();

describe('attemptsToUndo', () => {
  // Guards against a recovery that undoes committed attempts: only attempts left `loading`, or repeated, come back.
  it('is empty when every attempt finished, whatever its status', () => {
    const ledger = ledgerOf([
      ['a.csv', 'e1', { status: 'done' }],
      ['b.csv', 'e1', { status: 'failed', importId: 'imp_b' }],
      ['c.csv', 'e1', { status: 'undone', importId: 'imp_c' }],
      ['d.csv', 'e1', { status: 'retry', importId: 'imp_d' }],
    ]);
    expect(attemptsToUndo(ledger)).toEqual([]);
  });

  // Guards against recovery that undoes a batch object by object: a batch is one attempt, undone once.
  it('gathers the objects of a batch under its one import id', () => {
    const ledger = ledgerOf([
      ['a.csv', 'e1', { status: 'loading', importId: 'imp_batch', bucket: 'b1', unfinished: ['imp_batch'] }],
      ['b.csv', 'e2', { status: 'loading', importId: 'imp_batch', bucket: 'b1', unfinished: ['imp_batch'] }],
      ['c.csv', 'e3', { status: 'loading', importId: 'imp_alone', bucket: 'b1', unfinished: ['imp_alone'] }],
    ]);
    const attempts = attemptsToUndo(ledger);
    expect(attempts.map((a) => a.importId).sort()).toEqual(['imp_alone', 'imp_batch']);
    expect(refs(attempts.find((a) => a.importId === 'imp_batch'))).toEqual(['b1/a.csv@e1', 'b1/b.csv@e2']);
    expect(refs(attempts.find((a) => a.importId === 'imp_alone'))).toEqual(['b1/c.csv@e3']);
  });

  // Guards against a lost holder's rows surviving because another attempt of the same object committed:
  // the object's status is `done`, yet the attempt it left loading must still be undone.
  it('finds an attempt left loading beside a committed one', () => {
    const ledger = ledgerOf([['a.csv', 'e1', { status: 'done', importId: 'imp_new', unfinished: ['imp_lost'] }]]);
    expect(attemptsToUndo(ledger)).toMatchObject([{ importId: 'imp_lost', objects: [{ bucket: 'b', key: 'a.csv', etag: 'e1' }] }]);
  });

  // Guards against undoing the wrong version of a key: each ETag keeps its own attempts.
  it('keeps the versions of one key apart', () => {
    const ledger = ledgerOf([
      ['a.csv', 'old', { status: 'done', importId: 'imp_old' }],
      ['a.csv', 'new', { status: 'loading', importId: 'imp_n', unfinished: ['imp_n'] }],
    ]);
    expect(attemptsToUndo(ledger).map((a) => [a.importId, refs(a)])).toEqual([['imp_n', ['b/a.csv@new']]]);
  });

  // Guards against one attempt listed twice (two undo passes, two `undone` rows) when a version was
  // claimed by two attempts, and against attempts of different objects being merged.
  it('lists each unfinished attempt once, with every object it claimed', () => {
    const ledger = ledgerOf([
      ['a.csv', 'e1', { status: 'loading', unfinished: ['imp_1', 'imp_2'] }],
      ['b.csv', 'e1', { status: 'loading', unfinished: ['imp_2'] }],
    ]);
    const attempts = attemptsToUndo(ledger);
    expect(attempts).toHaveLength(2);
    expect(refs(attempts.find((a) => a.importId === 'imp_1'))).toEqual(['b/a.csv@e1']);
    expect(refs(attempts.find((a) => a.importId === 'imp_2'))).toEqual(['b/a.csv@e1', 'b/b.csv@e1']);
  });

  // Guards against an object loaded twice on a cluster (a run read a lagging copy of the ledger): the
  // second commit is undone with every object it loaded, the first stands.
  it('undoes an attempt that committed what another attempt had committed first, with all its objects', () => {
    const ledger = ledgerOf([
      ['a.csv', 'e1', { status: 'done', importId: 'imp_second', committed: ['imp_first', 'imp_second'] }],
      ['b.csv', 'e1', { status: 'done', importId: 'imp_second', committed: ['imp_second'] }],
      ['c.csv', 'e1', { status: 'done', importId: 'imp_first', committed: ['imp_first'] }],
    ]);
    const attempts = attemptsToUndo(ledger);
    expect(attempts.map((a) => [a.importId, a.why, refs(a)])).toEqual([['imp_second', 'repeated', ['b/a.csv@e1', 'b/b.csv@e1']]]);
  });

  it('undoes an attempt once when it is both left loading somewhere and repeated elsewhere', () => {
    const ledger = ledgerOf([
      ['a.csv', 'e1', { status: 'done', committed: ['imp_first', 'imp_second'] }],
      ['b.csv', 'e1', { status: 'loading', unfinished: ['imp_second'] }],
    ]);
    expect(attemptsToUndo(ledger).map((a) => [a.importId, refs(a)])).toEqual([['imp_second', ['b/a.csv@e1', 'b/b.csv@e1']]]);
  });
});
