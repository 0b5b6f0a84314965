import { describe, expect, it } from 'vitest';
import { dataTableSql, dataTableStatements, rowsAlterHead, onCluster, quarantineTableSql, stagingTableSql } from '../../src/store/table-ddl.js';

const engine = { engine: 'ReplicatedMergeTree', engineArgs: [], partitionKey: 'toYYYYMM(at)', sortingKey: 'at', location: { file: 'f', line: 1 } };

describe('table DDL', () => {
  it('creates the data table with quoted columns, the engine clauses and the hidden import tag', () => {
    expect(dataTableSql('events', [{ name: 'at', type: 'DateTime' }, { name: 'odd `name`', type: 'String', defaultExpression: "'x'" }], engine)).toBe(
      [
        'CREATE TABLE IF NOT EXISTS `events` (',
        "`at` DateTime,\n  `odd \\`name\\`` String DEFAULT 'x',\n  `_bp_import_id` String MATERIALIZED ''",
        ') ENGINE = ReplicatedMergeTree()',
        'PARTITION BY toYYYYMM(at)',
        'ORDER BY (at)',
      ].join('\n'),
    );
  });

  it('gives the tag a source column of its own where the store has EPHEMERAL columns: each insert fills it per row', () => {
    expect(dataTableSql('events', [{ name: 'at', type: 'DateTime' }], engine, { tagSource: true }).split('\n').slice(1, 4).join('\n')).toBe(
      "`at` DateTime,\n  `_bp_import_src` String EPHEMERAL '',\n  `_bp_import_id` String MATERIALIZED `_bp_import_src`",
    );
  });

  it('adds default settings after ENGINE_SETTINGS, except those ENGINE_SETTINGS name', () => {
    const columns = [{ name: 'at', type: 'DateTime' }];
    const defaults = { vertical_merge_algorithm_min_columns_to_activate: '1', index_granularity: '1024' };
    expect(dataTableSql('events', columns, engine, { defaultSettings: defaults }).split('\n').at(-1)).toBe(
      'SETTINGS vertical_merge_algorithm_min_columns_to_activate = 1, index_granularity = 1024',
    );
    expect(dataTableSql('events', columns, { ...engine, settings: 'INDEX_GRANULARITY=8192' }, { defaultSettings: defaults }).split('\n').at(-1)).toBe(
      'SETTINGS INDEX_GRANULARITY=8192, vertical_merge_algorithm_min_columns_to_activate = 1',
    );
    expect(dataTableSql('events', columns, engine)).not.toMatch(/SETTINGS/);
  });

  it('on a cluster of one shard, replicates the data and quarantine tables to every node', () => {
    const cluster = { name: 'main', shards: 1, database: 'db', catchUpMs: 0 };
    expect(onCluster(undefined)).toBe('');
    expect(onCluster(cluster)).toBe(' ON CLUSTER `main`');
    const replacing = { ...engine, engine: 'ReplacingMergeTree', engineArgs: ['`v`'] };
    const [data, ...more] = dataTableStatements('events', [{ name: 'at', type: 'DateTime' }], replacing, { cluster });
    expect(more).toEqual([]);
    expect(data).toMatch(/^CREATE TABLE IF NOT EXISTS `db`.`events` ON CLUSTER `main` \(/);
    expect(data).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/bucketpipe/db/events', '{replica}', `v`)");
    // Written Replicated without arguments: given the same path.
    const [written] = dataTableStatements('events', [{ name: 'at', type: 'DateTime' }], { ...engine, engine: 'ReplicatedMergeTree' }, { cluster });
    expect(written).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/bucketpipe/db/events', '{replica}')");
    expect(quarantineTableSql('events', [{ name: 'at', type: 'DateTime' }], undefined, cluster)).toMatch(
      /^CREATE TABLE IF NOT EXISTS `db`.`events_quarantine` ON CLUSTER `main` \(\n  `at` Nullable\(String\),[^]*ENGINE = ReplicatedMergeTree\('\/clickhouse\/bucketpipe\/db\/events_quarantine', '\{replica\}'\)/,
    );
    // A replicated table passes ALTERs on itself: one node runs them.
    expect(rowsAlterHead(cluster, 'events')).toBe('ALTER TABLE `events` ');
  });

  it('on a cluster of several shards, puts a Distributed table in front of shard-local tables', () => {
    const cluster = { name: 'wide', shards: 2, database: 'db', catchUpMs: 0 };
    const [local, front] = dataTableStatements('events', [{ name: 'at', type: 'DateTime' }], { ...engine, shardingKey: 'cityHash64(at)' }, { cluster, tagSource: true });
    expect(local).toMatch(/^CREATE TABLE IF NOT EXISTS `db`.`events_local` ON CLUSTER `wide` \(/);
    expect(local).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/events_local', '{replica}')");
    // The tag is an ordinary column of the shards, hidden in the table users read.
    expect(local).toContain("`_bp_import_id` String DEFAULT ''");
    expect(front).toMatch(/^CREATE TABLE IF NOT EXISTS `db`.`events` ON CLUSTER `wide` \(/);
    expect(front).toContain("`_bp_import_id` String MATERIALIZED ''");
    expect(front).toContain('ENGINE = Distributed(`wide`, `db`, `events_local`, cityHash64(at))');
    expect(front).not.toMatch(/ORDER BY/);
    expect(dataTableStatements('events', [{ name: 'at', type: 'DateTime' }], engine, { cluster })[1]).toContain('rand())');
    expect(rowsAlterHead(cluster, 'events')).toBe("ALTER TABLE `db`.`events_local` ON CLUSTER `wide` ");
  });

  it('stages rows in a plain local table', () => {
    expect(stagingTableSql('_bp_stage_x', [{ name: 'a', type: 'UInt8' }])).toBe('CREATE TABLE IF NOT EXISTS `_bp_stage_x` (`a` UInt8) ENGINE = MergeTree ORDER BY tuple()');
  });
});
