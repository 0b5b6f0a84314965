import { describe, it, expect } from 'vitest';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import { renderDatasourceFile, suggestDatasourceName } from '../../src/importer/render-datasource.js';
import { parseJsonPath } from '../../src/importer/probe/json-path.js';
import { parseDatasource } from '../../src/project/parse-datasource.js';
import type { DatasourceSpec, ImportFormat } from '../../src/project/types.js';

const FILE = 'datasources/events.datasource';

function suggest(uri: string): string {
  return suggestDatasourceName(parseBucketUri(uri));
}

function specFor(bucketUri: string, schedule: '@auto' | '@on-demand' = '@auto'): DatasourceSpec {
  const location = { file: FILE, line: 1 };
  return {
    name: 'events',
    location,
    engine: { engine: 'MergeTree', engineArgs: [], location },
    import: { service: 's3', connectionName: 'my_s3', bucketUri, uri: parseBucketUri(bucketUri), schedule, strategy: 'APPEND', maxFilesPerRun: 5, location },
  };
}

function render(columns: Array<{ name: string; type: string }>, format: ImportFormat, bucketUri = 's3://my-bucket/events/*.csv'): string {
  return renderDatasourceFile({ spec: specFor(bucketUri), columns, format, reference: 's3://my-bucket/events/a.csv' });
}

describe('suggestDatasourceName', () => {
  it('joins the last two literal folders', () => {
    expect(suggest('s3://b/events/2024/*.csv')).toBe('events_2024');
    expect(suggest('s3://b/a/b/c/**/*.csv')).toBe('b_c');
    expect(suggest('s3://b/events/*.csv')).toBe('events');
  });

  it('uses the file stem of an exact key', () => {
    expect(suggest('s3://b/exact/key.csv')).toBe('exact_key');
    expect(suggest('s3://b/data.ndjson')).toBe('data');
  });

  it('uses the bucket when the pattern has no literal folder', () => {
    expect(suggest('s3://my-bucket/*.csv')).toBe('my_bucket');
    expect(suggest('s3://logs')).toBe('logs');
    expect(suggest('s3://logs/**')).toBe('logs');
  });

  it('makes the name a valid identifier', () => {
    expect(suggest('s3://b/2024/*.csv')).toBe('_2024');
    expect(suggest('s3://b/my-app/raw events/*.csv')).toBe('my_app_raw_events');
    expect(suggest('s3://b/a--b/*.csv')).toBe('a_b');
    for (const uri of ['s3://b/ü/*.csv', 's3://123/*.csv', 's3://b/x y/z-1/*.csv', 's3://b/events/part-*.csv']) {
      expect(suggest(uri), uri).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    }
  });
});

describe('renderDatasourceFile', () => {
  it('renders a CSV datasource', () => {
    const text = render(
      [
        { name: 'id', type: 'Int64' },
        { name: 'name', type: 'Nullable(String)' },
      ],
      'csv',
    );
    expect(text).toBe(
      [
        'DESCRIPTION >',
        '    Imported from s3://my-bucket/events/*.csv; schema inferred from s3://my-bucket/events/a.csv',
        '',
        'SCHEMA >',
        '    `id` Int64,',
        '    `name` Nullable(String)',
        '',
        'ENGINE "MergeTree"',
        'ENGINE_SORTING_KEY "tuple()"',
        '',
        'IMPORT_SERVICE s3',
        'IMPORT_CONNECTION_NAME my_s3',
        'IMPORT_BUCKET_URI s3://my-bucket/events/*.csv',
        'IMPORT_SCHEDULE @auto',
        'IMPORT_STRATEGY APPEND',
        '',
      ].join('\n'),
    );
  });

  it('adds json paths for NDJSON', () => {
    const text = render(
      [
        { name: 'id', type: 'Int64' },
        { name: 'odd key', type: 'String' },
      ],
      'ndjson',
      's3://my-bucket/events/*.ndjson',
    );
    expect(text).toContain("    `id` Int64 `json:$.id`,\n    `odd key` String `json:$['odd key']`\n");
  });

  it('adds no json paths for Parquet', () => {
    expect(render([{ name: 'id', type: 'Int64' }], 'parquet')).toContain('SCHEMA >\n    `id` Int64\n\n');
  });

  it('doubles backticks in column names', () => {
    expect(render([{ name: 'a`b c', type: 'String' }], 'csv')).toContain('    `a``b c` String\n');
  });

  it('writes the schedule of the spec', () => {
    const text = renderDatasourceFile({ spec: specFor('s3://b/x/*.csv', '@on-demand'), columns: [{ name: 'a', type: 'String' }], format: 'csv', reference: 's3://b/x/1.csv' });
    expect(text).toContain('IMPORT_SCHEDULE @on-demand\n');
  });
});

describe('renderDatasourceFile output parses back', () => {
  const columns = [
    { name: 'id', type: 'UInt64' },
    { name: 'a`b c', type: 'String' },
    { name: 'created at', type: "Nullable(DateTime64(3, 'UTC'))" },
    { name: 'tags', type: 'Array(LowCardinality(String))' },
    { name: "it's", type: 'Map(String, Float64)' },
    { name: 'ünï', type: 'Nullable(Int32)' },
    { name: '# not a comment', type: 'String' },
    { name: 'a\\b', type: 'String' },
  ];

  function parseBack(text: string) {
    const parsed = parseDatasource(text, FILE, 'events');
    expect(parsed.problems).toEqual([]);
    return parsed.spec!;
  }

  it('gives the same columns and import settings for CSV', () => {
    const bucketUri = 's3://my-bucket/events/**/*.csv';
    const spec = parseBack(render(columns, 'csv', bucketUri));
    expect(spec.schema!.map((c) => ({ name: c.name, type: c.type }))).toEqual(columns);
    expect(spec.schema!.every((c) => c.jsonPath === undefined && c.defaultExpression === undefined)).toBe(true);
    expect(spec.engine).toMatchObject({ engine: 'MergeTree', engineArgs: [], sortingKey: 'tuple()' });
    expect(spec.import).toMatchObject({ service: 's3', connectionName: 'my_s3', bucketUri, schedule: '@auto', strategy: 'APPEND' });
    expect(spec.description).toBe(`Imported from ${bucketUri}; schema inferred from s3://my-bucket/events/a.csv`);
  });

  it('gives the same columns and json paths for NDJSON (names without backticks)', () => {
    const ndjsonColumns = columns.filter((c) => !c.name.includes('`'));
    const spec = parseBack(render(ndjsonColumns, 'ndjson', 's3://my-bucket/events/*.ndjson.gz'));
    expect(spec.schema!.map((c) => ({ name: c.name, type: c.type }))).toEqual(ndjsonColumns);
    for (const column of spec.schema!) expect(parseJsonPath(column.jsonPath!), column.name).toEqual([column.name]);
  });

  // Known bug (see report): the json path of an NDJSON column ends at the first backtick, so a
  // column name with a backtick renders a SCHEMA line that does not parse.
  it('round-trips an NDJSON column whose name holds a backtick', () => {
    const spec = parseBack(render([{ name: 'a`b c', type: 'String' }], 'ndjson', 's3://my-bucket/events/*.ndjson'));
    expect(spec.schema!.map((c) => c.name)).toEqual(['a`b c']);
  });

  // Known bug (see report): backslashes in names are not escaped, so a trailing backslash
  // escapes the closing backtick and `\\` reads back as one backslash.
  it('round-trips column names with backslashes', () => {
    const names = ['ends with\\', 'two\\\\slashes'];
    const spec = parseBack(render(names.map((name) => ({ name, type: 'String' })), 'csv'));
    expect(spec.schema!.map((c) => c.name)).toEqual(names);
  });
});
