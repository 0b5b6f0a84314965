import { describe, it, expect } from 'vitest';
import { parseDatasource } from '../../src/project/parse-datasource.js';
import { EXAMPLE_DATASOURCE } from '../fixtures/example-project.js';

const FILE = 'datasources/events.datasource';

const SCHEMA = ['SCHEMA >', '    `id` UInt64,', '    `version` UInt32,', '    `deleted` UInt8,', '    `sign` Int8', ''];

function parse(text: string) {
  return parseDatasource(text, FILE, 'events');
}

function problemsOf(text: string): [number, string][] {
  return parse(text).problems.map((p) => [p.location.line, p.message]);
}

function withImport(...lines: string[]): string {
  return ['IMPORT_CONNECTION_NAME my_s3', 'IMPORT_BUCKET_URI s3://my-bucket/a/*.csv', ...lines].join('\n');
}

describe('parseDatasource', () => {
  it('parses the Tinybird example', () => {
    const { spec, problems, warnings, connection } = parse(EXAMPLE_DATASOURCE);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(connection).toEqual({ name: 'my_s3', line: 14 });
    const at = (line: number) => ({ file: FILE, line });
    expect(spec).toEqual({
      name: 'events',
      location: at(1),
      description: 'Events from the app',
      schema: [
        { name: 'timestamp', type: 'DateTime', jsonPath: '$.timestamp', location: at(5) },
        { name: 'session_id', type: 'String', jsonPath: '$.session_id', location: at(6) },
        { name: 'action', type: 'LowCardinality(String)', jsonPath: '$.action', location: at(7) },
        { name: 'payload', type: 'String', jsonPath: '$.payload', location: at(8) },
      ],
      engine: {
        engine: 'MergeTree',
        engineArgs: [],
        partitionKey: 'toYYYYMM(timestamp)',
        sortingKey: 'timestamp',
        location: at(10),
      },
      import: {
        service: 's3',
        connectionName: 'my_s3',
        bucketUri: 's3://my-bucket/events/*.ndjson.gz',
        uri: { bucket: 'my-bucket', keyPattern: 'events/*.ndjson.gz', listPrefix: 'events/' },
        schedule: '@auto',
        strategy: 'APPEND',
        maxFilesPerRun: 5,
        location: at(13),
      },
    });
  });

  it('reads the example with CRLF line ends and a byte order mark the same way', () => {
    const result = parse('\uFEFF' + EXAMPLE_DATASOURCE.replace(/\n/g, '\r\n'));
    expect(result.problems).toEqual([]);
    expect(result.spec).toEqual(parse(EXAMPLE_DATASOURCE).spec);
  });

  it('uses the defaults when settings are absent', () => {
    expect(parse('').spec).toEqual({
      name: 'events',
      location: { file: FILE, line: 1 },
      engine: { engine: 'MergeTree', engineArgs: [], location: { file: FILE, line: 1 } },
    });
    const { spec } = parse(withImport());
    expect(spec?.import).toEqual({
      service: 's3',
      connectionName: 'my_s3',
      bucketUri: 's3://my-bucket/a/*.csv',
      uri: { bucket: 'my-bucket', keyPattern: 'a/*.csv', listPrefix: 'a/' },
      schedule: '@auto',
      strategy: 'APPEND',
      maxFilesPerRun: 5,
      location: { file: FILE, line: 1 },
    });
    expect(spec?.schema).toBeUndefined();
  });

  it('reads every other setting', () => {
    const text = [
      'DESCRIPTION "one line"',
      'TOKEN "read_token" READ',
      'TOKEN "append_token" APPEND',
      'ENGINE_PARTITION_KEY ""',
      'ENGINE_PRIMARY_KEY id',
      'ENGINE_SORTING_KEY id, ts',
      'ENGINE_TTL ts + INTERVAL 30 DAY',
      'ENGINE_SETTINGS index_granularity=8192',
      'IMPORT_CONNECTION_NAME my_s3',
      'IMPORT_BUCKET_URI s3://my.bucket-1/**/*.parquet',
      'IMPORT_SCHEDULE @on-demand',
      'IMPORT_STRATEGY append',
      'IMPORT_FORMAT Parquet',
    ].join('\n');
    const { spec, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(spec?.description).toBe('one line');
    expect(spec?.engine).toEqual({
      engine: 'MergeTree',
      engineArgs: [],
      primaryKey: 'id',
      sortingKey: 'id, ts',
      ttl: 'ts + INTERVAL 30 DAY',
      settings: 'index_granularity=8192',
      location: { file: FILE, line: 4 },
    });
    expect(spec?.import).toMatchObject({ schedule: '@on-demand', strategy: 'APPEND', format: 'parquet', location: { file: FILE, line: 9 } });
  });

  it('keeps the paragraphs of a DESCRIPTION block', () => {
    const { spec } = parse('DESCRIPTION >\n    First.\n\n    Second.\n');
    expect(spec?.description).toBe('First.\n\nSecond.');
  });

  it('reads the formats, with jsonl and json as ndjson', () => {
    const format = (value: string) => parse(withImport(`IMPORT_FORMAT ${value}`)).spec?.import?.format;
    expect([format('csv'), format('NDJSON'), format('jsonl'), format('json'), format('parquet')]).toEqual([
      'csv',
      'ndjson',
      'ndjson',
      'ndjson',
      'parquet',
    ]);
  });

  it('reads IMPORT_MAX_FILES_PER_RUN from 1 to 100000', () => {
    expect(parse(withImport('IMPORT_MAX_FILES_PER_RUN 1')).spec?.import?.maxFilesPerRun).toBe(1);
    expect(parse(withImport('IMPORT_MAX_FILES_PER_RUN "100000"')).spec?.import?.maxFilesPerRun).toBe(100000);
    for (const bad of ['0', '100001', '-3', '2.5', 'ten', '']) {
      expect(problemsOf(withImport(`IMPORT_MAX_FILES_PER_RUN ${bad}`)), bad).toEqual([
        [3, `IMPORT_MAX_FILES_PER_RUN must be a whole number from 1 to 100000, not ${JSON.stringify(bad)}`],
      ]);
    }
  });

  it('warns that IMPORT_MAX_FILES_PER_RUN does nothing on demand', () => {
    const { warnings, spec } = parse(withImport('IMPORT_SCHEDULE @on-demand', 'IMPORT_MAX_FILES_PER_RUN 10'));
    expect(spec?.import?.maxFilesPerRun).toBe(10);
    expect(warnings).toEqual([
      {
        location: { file: FILE, line: 4 },
        message: 'IMPORT_MAX_FILES_PER_RUN has no effect with IMPORT_SCHEDULE @on-demand, which takes all new objects: remove it',
      },
    ]);
  });

  it('reads IMPORT_CSV_HEADER true or false, refuses anything else at its line, and warns where the format is not CSV', () => {
    expect(parse(withImport('IMPORT_CSV_HEADER true')).spec?.import?.csvHeader).toBe(true);
    expect(parse(withImport('IMPORT_CSV_HEADER False')).spec?.import?.csvHeader).toBe(false);
    expect(parse(withImport()).spec?.import?.csvHeader).toBeUndefined();
    for (const bad of ['yes', '1', '']) {
      expect(problemsOf(withImport(`IMPORT_CSV_HEADER ${bad}`)), bad).toEqual([[3, `IMPORT_CSV_HEADER must be true or false, not ${JSON.stringify(bad)}`]]);
    }
    expect(parse(withImport('IMPORT_FORMAT ndjson', 'IMPORT_CSV_HEADER true')).warnings).toEqual([
      { location: { file: FILE, line: 4 }, message: 'IMPORT_CSV_HEADER has no effect with IMPORT_FORMAT ndjson: remove it, or set IMPORT_FORMAT csv' },
    ]);
    // The IMPORT_* settings it belongs to need their connection and URI like any other.
    expect(problemsOf('IMPORT_CSV_HEADER true')).toEqual([
      [1, 'IMPORT_CONNECTION_NAME is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI'],
      [1, 'IMPORT_BUCKET_URI is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI'],
    ]);
  });

  it('reports unsupported IMPORT_* values at their lines', () => {
    const text = withImport(
      'IMPORT_SERVICE gcs',
      'IMPORT_SCHEDULE @hourly',
      'IMPORT_STRATEGY REPLACE',
      'IMPORT_FORMAT tsv',
      'IMPORT_SCHEDULE @once',
    );
    expect(problemsOf(text)).toEqual([
      [3, 'IMPORT_SERVICE "gcs" is not supported: write IMPORT_SERVICE s3'],
      [4, 'IMPORT_SCHEDULE "@hourly" is not supported: use @auto (every minute) or @on-demand'],
      [5, 'IMPORT_STRATEGY "REPLACE" is not supported: only APPEND is'],
      [6, "IMPORT_FORMAT \"tsv\" is not supported: use csv, ndjson or parquet, or remove IMPORT_FORMAT to read the format from each key's extension"],
      [7, 'IMPORT_SCHEDULE is set twice (first on line 4): keep only one'],
    ]);
    expect(problemsOf(withImport('IMPORT_SCHEDULE @once'))).toEqual([
      [3, 'IMPORT_SCHEDULE "@once" is not supported: use @auto (every minute) or @on-demand'],
    ]);
  });

  it('checks IMPORT_BUCKET_URI', () => {
    const uriProblems = (uri: string) => problemsOf(`IMPORT_CONNECTION_NAME c\nIMPORT_BUCKET_URI ${uri}`);
    expect(uriProblems('s3://my-bucket/events/2024-*.csv.gz')).toEqual([]);
    expect(uriProblems('s3://a.b-c/k')).toEqual([]);
    expect(uriProblems('https://my-bucket.s3.amazonaws.com/x')).toEqual([
      [2, 'IMPORT_BUCKET_URI "https://my-bucket.s3.amazonaws.com/x" must start with s3://, e.g. s3://my-bucket/events/*.ndjson.gz'],
    ]);
    expect(uriProblems('s3://My_Bucket/x')).toEqual([
      [2, 'the bucket "My_Bucket" in IMPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens'],
    ]);
    expect(uriProblems('s3://ab/x')).toHaveLength(1);
    expect(uriProblems(`s3://${'a'.repeat(64)}/x`)).toHaveLength(1);
    expect(uriProblems(`s3://${'a'.repeat(63)}/x`)).toEqual([]);
    expect(uriProblems('s3://my-bucket')).toEqual([
      [2, 'IMPORT_BUCKET_URI "s3://my-bucket" has no key or pattern after the bucket: add one, e.g. s3://my-bucket/**'],
    ]);
    expect(uriProblems('s3://my-bucket/')).toHaveLength(1);
  });

  it('requires IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI with any IMPORT_* setting, at the first IMPORT_ line', () => {
    const text = ['SCHEMA >', '    `a` String', '', 'IMPORT_SCHEDULE @auto', 'IMPORT_SERVICE s3'].join('\n');
    expect(problemsOf(text)).toEqual([
      [4, 'IMPORT_CONNECTION_NAME is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI'],
      [4, 'IMPORT_BUCKET_URI is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI'],
    ]);
    expect(problemsOf('ENGINE MergeTree\nIMPORT_CONNECTION_NAME my_s3\n')).toEqual([
      [2, 'IMPORT_BUCKET_URI is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI'],
    ]);
  });

  it('reports a malformed connection name and returns a well-formed one even when other settings fail', () => {
    expect(problemsOf('IMPORT_CONNECTION_NAME my-s3\nIMPORT_BUCKET_URI s3://bkt/x')).toEqual([
      [1, 'IMPORT_CONNECTION_NAME "my-s3" is not a connection name: write the base name of a file in connections/, e.g. my_s3 for connections/my_s3.connection'],
    ]);
    const broken = parse('ENGINE Log\nIMPORT_CONNECTION_NAME other\n');
    expect(broken.spec).toBeUndefined();
    expect(broken.connection).toEqual({ name: 'other', line: 2 });
  });

  it('accepts MergeTree family engines in any case, with Replicated variants', () => {
    for (const [written, canonical] of [
      ['MergeTree', 'MergeTree'],
      ['summingmergetree', 'SummingMergeTree'],
      ['AggregatingMergeTree', 'AggregatingMergeTree'],
      ['ReplicatedMergeTree', 'ReplicatedMergeTree'],
      ['ReplicatedAggregatingMergeTree', 'ReplicatedAggregatingMergeTree'],
    ]) {
      expect(parse(`ENGINE "${written}"`).spec?.engine.engine).toBe(canonical);
    }
  });

  it('rejects other engines', () => {
    expect(problemsOf('\nENGINE Log')).toEqual([
      [
        2,
        'ENGINE "Log" is not supported: use one of MergeTree, ReplacingMergeTree, SummingMergeTree, AggregatingMergeTree, CollapsingMergeTree, VersionedCollapsingMergeTree, or their Replicated variants',
      ],
    ]);
    expect(problemsOf('ENGINE ReplacingMergeTree(version)')).toEqual([
      [1, 'ENGINE "ReplacingMergeTree(version)" is not supported: write the engine name alone; its arguments go in ENGINE_VER, ENGINE_SIGN and ENGINE_IS_DELETED'],
    ]);
    expect(problemsOf('ENGINE ReplicatedLog')).toHaveLength(1);
  });

  it('fills engineArgs from ENGINE_VER, ENGINE_IS_DELETED and ENGINE_SIGN', () => {
    const args = (...lines: string[]) => {
      const result = parse([...SCHEMA, ...lines].join('\n'));
      expect(result.problems).toEqual([]);
      return result.spec?.engine.engineArgs;
    };
    expect(args('ENGINE ReplacingMergeTree')).toEqual([]);
    expect(args('ENGINE ReplacingMergeTree', 'ENGINE_VER version')).toEqual(['version']);
    expect(args('ENGINE ReplicatedReplacingMergeTree', 'ENGINE_IS_DELETED deleted', 'ENGINE_VER version')).toEqual(['version', 'deleted']);
    expect(args('ENGINE CollapsingMergeTree', 'ENGINE_SIGN sign')).toEqual(['sign']);
    expect(args('ENGINE VersionedCollapsingMergeTree', 'ENGINE_VER version', 'ENGINE_SIGN sign')).toEqual(['sign', 'version']);
    expect(args('ENGINE CollapsingMergeTree', 'ENGINE_SIGN `sign`')).toEqual(['`sign`']);
  });

  it('reports missing, misplaced and unknown engine arguments at their lines', () => {
    const problems = (...lines: string[]) => problemsOf([...SCHEMA, ...lines].join('\n'));
    expect(problems('ENGINE CollapsingMergeTree')).toEqual([[7, 'CollapsingMergeTree needs ENGINE_SIGN: set it to the name of a column']]);
    expect(problems('ENGINE VersionedCollapsingMergeTree', 'ENGINE_SIGN sign')).toEqual([
      [7, 'VersionedCollapsingMergeTree needs ENGINE_VER: set it to the name of a column'],
    ]);
    expect(problems('ENGINE ReplacingMergeTree', 'ENGINE_IS_DELETED deleted')).toEqual([
      [8, 'ENGINE_IS_DELETED needs ENGINE_VER: set the version column too'],
    ]);
    expect(problems('ENGINE MergeTree', 'ENGINE_SIGN sign', 'ENGINE_VER version')).toEqual([
      [8, 'ENGINE_SIGN is only used by CollapsingMergeTree and VersionedCollapsingMergeTree, not by MergeTree: remove it or change ENGINE'],
      [9, 'ENGINE_VER is only used by ReplacingMergeTree and VersionedCollapsingMergeTree, not by MergeTree: remove it or change ENGINE'],
    ]);
    expect(problems('ENGINE_IS_DELETED deleted')).toEqual([
      [7, 'ENGINE_IS_DELETED is only used by ReplacingMergeTree, not by MergeTree: remove it or change ENGINE'],
    ]);
    expect(problems('ENGINE ReplacingMergeTree', 'ENGINE_VER updated_at')).toEqual([
      [8, 'ENGINE_VER "updated_at" is not a column of SCHEMA: name one of its columns'],
    ]);
  });

  it('reports unknown directives, and checks EXPORT_* ones', () => {
    const problems = problemsOf('SCHEMA >\n    `a` String\nKAFKA_TOPIC t\nEXPORT_BUCKET_URI s3://b/x\n');
    expect(problems[0]![0]).toBe(3);
    expect(problems[0]![1]).toMatch(/^unknown directive KAFKA_TOPIC: a datasource file may only set DESCRIPTION, TOKEN, SCHEMA, .*IMPORT_MAX_FILES_PER_RUN, IMPORT_CSV_HEADER, EXPORT_CONNECTION_NAME, .*EXPORT_TEST_WRITE$/);
    expect(problems.slice(1)).toEqual([
      [4, 'the bucket "b" in EXPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens'],
      [4, 'EXPORT_CONNECTION_NAME is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI'],
    ]);
  });

  it('reports SCHEMA written as a value, an empty SCHEMA block, blocks and templates elsewhere', () => {
    expect(problemsOf('SCHEMA `a` String')).toEqual([
      [1, 'SCHEMA must be a block: write SCHEMA > and put the columns on the indented lines below it'],
    ]);
    expect(problemsOf('SCHEMA >\n\nENGINE MergeTree')).toEqual([
      [1, 'SCHEMA > has no columns: list them on the indented lines below it, or remove SCHEMA to infer them'],
    ]);
    expect(problemsOf('ENGINE_TTL >\n    ts + INTERVAL 1 DAY\nIMPORT_CONNECTION_NAME {{ tb_secret("C") }}\nIMPORT_BUCKET_URI s3://bkt/x')).toEqual([
      [1, 'ENGINE_TTL takes a value on the same line, not a ">" block'],
      [3, 'IMPORT_CONNECTION_NAME cannot use a {{ }} template: write the value itself'],
    ]);
  });

  it('collects every problem of a file, schema ones included, each at its exact line', () => {
    const text = [
      'DESCRIPTION >', //   1
      '    Broken on purpose', // 2
      '', //                3
      'SCHEMA >', //        4
      '    `a` String,', // 5
      '    `b` Array(String,', // 6  unbalanced, swallows line 7
      '    `c` Int8', //    7
      '', //                8
      'ENGINE Memory', //   9
      'ENGINE_SORTING_KEY a', // 10
      'ENGINE_SORTING_KEY b', // 11
      'IMPORT_STRATEGY REPLACE', // 12
      'IMPORT_BUCKET_URI gs://x/y', // 13
      'EXPORT_SCHEDULE @auto', // 14
      'lowercase thing', // 15
      'IMPORT_FORMAT tsv', // 16
    ].join('\n');
    const { spec, problems } = parse(text);
    expect(spec).toBeUndefined();
    expect(problems.map((p) => p.location.line)).toEqual([6, 9, 11, 12, 12, 13, 14, 14, 14, 15, 16]);
    expect(problems.every((p) => p.location.file === FILE)).toBe(true);
    expect(problems.find((p) => p.location.line === 12 && p.message.startsWith('IMPORT_CONNECTION_NAME is missing'))).toBeDefined();
  });
});
