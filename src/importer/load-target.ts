import type { LocalEngine } from '../store/local-engine.js';
import { quarantineTableName } from '../store/table-names.js';
import type { StoreLimits } from './load/cast-expressions.js';

/**
 * Where a load writes, decided once from the store's kind when the import context is built; the load
 * stages read it rather than ask the store again.
 */
export type LoadTarget = InStoreTarget | StagedTarget;

/**
 * The store reads the objects itself: a direct read and the split write straight into the
 * datasource's tables, each row tagged with its import id as it is written.
 */
export interface InStoreTarget {
  kind: 'in-store';
  /** The datasource's own data and quarantine tables. */
  split: SplitTargets;
}

/**
 * A ClickHouse server is the store: the worker's own engine reads the objects and splits them into
 * local staging tables, and the typed rows are then shipped to the server.
 */
export interface StagedTarget {
  kind: 'staged';
  /** Local staging tables in the worker's engine, shaped like the server's tables. */
  split: SplitTargets;
  /** The worker's engine, which holds the staging tables and streams their rows out. */
  stage: LocalEngine;
  /**
   * The server's data table is a Distributed table in front of several shards: rows reach every shard
   * before the insert returns, and are counted through it (a node holds the parts of its own shard only).
   */
  overShards: boolean;
}

/** The tables the split writes into, through its views. */
export interface SplitTargets extends StoreLimits {
  data: string;
  quarantine: string;
  /** The data table takes each row's import id through its tag source column (the store's own tables). */
  tagSource?: boolean;
}

/** 18.16's date library ends with 2105: it reads `2106-01-01` as 0 and shows later days as other ones. */
const LAST_INSTANT_OF_2105 = '2105-12-31 23:59:59.999';

/** What of the store decides the target. */
export interface StoreShape {
  datesAfter2105: boolean;
  /** The store is a cluster of several shards. */
  sharded?: boolean;
}

/** The target of a datasource's loads: staged when a local engine stands in front of the store. */
export function loadTarget(datasource: string, stage: LocalEngine | undefined, store: StoreShape = { datesAfter2105: true }): LoadTarget {
  if (!stage) return { kind: 'in-store', split: { data: datasource, quarantine: quarantineTableName(datasource), tagSource: true } };
  const lastInstant = store.datesAfter2105 ? undefined : LAST_INSTANT_OF_2105;
  return { kind: 'staged', split: { data: `_bp_stage_${datasource}`, quarantine: `_bp_stage_${datasource}_quarantine`, lastInstant }, stage, overShards: store.sharded === true };
}
