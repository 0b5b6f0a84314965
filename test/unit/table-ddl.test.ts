import { describe, expect, it } from 'vitest';
import { dataTableSql, onCluster, quarantineTableSql, stagingTableSql } from '../../src/store/table-ddl.js';

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

  it('runs DDL ON CLUSTER when a cluster is set', () => {
    expect(onCluster(undefined)).toBe('');
    expect(onCluster('main')).toBe(' ON CLUSTER `main`');
    expect(dataTableSql('events', [{ name: 'at', type: 'DateTime' }], engine, { cluster: 'main' })).toMatch(/^CREATE TABLE IF NOT EXISTS `events` ON CLUSTER `main` \(/);
    expect(quarantineTableSql('events', [{ name: 'at', type: 'DateTime' }], undefined, 'main')).toMatch(/^CREATE TABLE IF NOT EXISTS `events_quarantine` ON CLUSTER `main` \(\n  `at` Nullable\(String\),/);
  });

  it('stages rows in a plain local table', () => {
    expect(stagingTableSql('_bp_stage_x', [{ name: 'a', type: 'UInt8' }])).toBe('CREATE TABLE IF NOT EXISTS `_bp_stage_x` (`a` UInt8) ENGINE = MergeTree ORDER BY tuple()');
  });
});
