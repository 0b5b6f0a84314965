import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/project/load-project.js';
import { parseDatasource } from '../../src/project/parse-datasource.js';

const FILE = 'datasources/events.datasource';
const at = (line: number) => ({ file: FILE, line });

const KNOWN_EXPORT =
  'EXPORT_CONNECTION_NAME, EXPORT_BUCKET_URI, EXPORT_FILE_TEMPLATE, EXPORT_FORMAT, EXPORT_COMPRESSION, EXPORT_PARQUET_COMPRESSION, EXPORT_PARQUET_ROW_GROUP_SIZE, EXPORT_CSV_DELIMITER, EXPORT_CSV_HEADER, EXPORT_COLUMN_CASE, EXPORT_MAX_ROWS_PER_FILE, EXPORT_QUERY, EXPORT_SCHEDULE, EXPORT_STRATEGY, EXPORT_WRITE_EMPTY, EXPORT_SSE, EXPORT_SSE_KMS_KEY_ID, EXPORT_ACL, EXPORT_TEST_WRITE';

function parse(text: string) {
  return parseDatasource(text, FILE, 'events');
}

function problemsOf(text: string): [number, string][] {
  return parse(text).problems.map((p) => [p.location.line, p.message]);
}

function warningsOf(text: string): [number, string][] {
  return parse(text).warnings.map((p) => [p.location.line, p.message]);
}

/** The two required settings on lines 1 and 2, then `lines` from line 3. */
function withExport(...lines: string[]): string {
  return ['EXPORT_CONNECTION_NAME my_s3', 'EXPORT_BUCKET_URI s3://my-bucket/exports/', ...lines].join('\n');
}

function exportOf(...lines: string[]) {
  const result = parse(withExport(...lines));
  expect(result.problems).toEqual([]);
  return result.spec?.export;
}

/** The problems of one directive written on line 3. */
function problemsOfSetting(line: string): [number, string][] {
  return problemsOf(withExport(line));
}

describe('EXPORT_* settings', () => {
  it('uses the defaults, without SCHEMA or IMPORT_*', () => {
    const { spec, problems, warnings, exportConnection, connection } = parse(withExport());
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(connection).toBeUndefined();
    expect(exportConnection).toEqual({ name: 'my_s3', line: 1 });
    expect(spec).toEqual({
      name: 'events',
      location: at(1),
      engine: { engine: 'MergeTree', engineArgs: [], location: at(1) },
      export: {
        connectionName: 'my_s3',
        bucketUri: 's3://my-bucket/exports/',
        destination: { bucket: 'my-bucket', prefix: 'exports/' },
        fileTemplate: '{{TABLE}}/{{YEAR}}-{{MONTH}}-{{DAY}}/{{SYNC_ID}}-part-{{PART}}.{{FORMAT}}',
        format: 'csv',
        compression: 'none',
        parquetCompression: 'zstd',
        csvDelimiter: ',',
        csvHeader: true,
        schedule: '@on-demand',
        strategy: 'new',
        writeEmpty: false,
        testWrite: true,
        location: at(1),
      },
    });
    expect(parse('ENGINE MergeTree').spec?.export).toBeUndefined();
  });

  it('reads every setting, next to SCHEMA and IMPORT_*', () => {
    const text = [
      'SCHEMA >', // 1
      '    `id` UInt64,', // 2
      '    `ts` DateTime', // 3
      '', // 4
      'IMPORT_CONNECTION_NAME in_s3', // 5
      'IMPORT_BUCKET_URI s3://in-bucket/*.csv', // 6
      'EXPORT_SCHEDULE "*/15 * * * *"', // 7
      'EXPORT_CONNECTION_NAME out_s3', // 8
      'EXPORT_BUCKET_URI s3://out-bucket/exports/events', // 9
      'EXPORT_FILE_TEMPLATE "{{TABLE_HYPHEN}}/%F/{jobId}-{{UUID}}.{{FORMAT}}"', // 10
      'EXPORT_FORMAT parquet', // 11
      'EXPORT_COMPRESSION none', // 12
      'EXPORT_PARQUET_COMPRESSION Snappy', // 13
      'EXPORT_PARQUET_ROW_GROUP_SIZE 100000', // 14
      'EXPORT_COLUMN_CASE UPPER', // 15
      'EXPORT_MAX_ROWS_PER_FILE 1000000', // 16
      'EXPORT_QUERY SELECT id, ts FROM events WHERE id > 0', // 17
      'EXPORT_STRATEGY FULL', // 18
      'EXPORT_WRITE_EMPTY TRUE', // 19
      'EXPORT_SSE aws:kms', // 20
      'EXPORT_SSE_KMS_KEY_ID arn:aws:kms:eu-west-1:123456789012:key/abcd', // 21
      'EXPORT_ACL bucket-owner-full-control', // 22
      'EXPORT_TEST_WRITE false', // 23
    ].join('\n');
    const { spec, problems, warnings, connection, exportConnection } = parse(text);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(connection).toEqual({ name: 'in_s3', line: 5 });
    expect(exportConnection).toEqual({ name: 'out_s3', line: 8 });
    expect(spec?.import?.connectionName).toBe('in_s3');
    expect(spec?.schema).toHaveLength(2);
    expect(spec?.export).toEqual({
      connectionName: 'out_s3',
      bucketUri: 's3://out-bucket/exports/events/',
      destination: { bucket: 'out-bucket', prefix: 'exports/events/' },
      fileTemplate: '{{TABLE_HYPHEN}}/%F/{jobId}-{{UUID}}.{{FORMAT}}',
      format: 'parquet',
      compression: 'none',
      parquetCompression: 'snappy',
      parquetRowGroupSize: 100000,
      csvDelimiter: ',',
      csvHeader: true,
      columnCase: 'upper',
      maxRowsPerFile: 1000000,
      query: 'SELECT id, ts FROM events WHERE id > 0',
      schedule: '*/15 * * * *',
      strategy: 'full',
      writeEmpty: true,
      sse: 'aws:kms',
      sseKmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abcd',
      acl: 'bucket-owner-full-control',
      testWrite: false,
      location: at(7),
    });
  });

  it('reads the CSV settings', () => {
    expect(exportOf('EXPORT_FORMAT CSV', 'EXPORT_CSV_DELIMITER ";"', 'EXPORT_CSV_HEADER False', 'EXPORT_COMPRESSION GZIP')).toMatchObject({
      format: 'csv',
      csvDelimiter: ';',
      csvHeader: false,
      compression: 'gzip',
    });
  });

  it('reads the formats, with ndjson and json as jsonl', () => {
    const format = (value: string) => exportOf(`EXPORT_FORMAT ${value}`)?.format;
    expect(['csv', 'jsonl', 'JSONL', 'ndjson', 'json', 'Parquet'].map(format)).toEqual(['csv', 'jsonl', 'jsonl', 'jsonl', 'jsonl', 'parquet']);
    expect(exportOf('EXPORT_FORMAT ndjson', 'EXPORT_COMPRESSION gzip')?.compression).toBe('gzip');
    expect(problemsOfSetting('EXPORT_FORMAT tsv')).toEqual([[3, 'EXPORT_FORMAT "tsv" is not supported: use csv, jsonl (also written ndjson or json) or parquet']]);
  });

  it('adds the trailing slash of EXPORT_BUCKET_URI and accepts an empty prefix', () => {
    const uri = (value: string) => parse(`EXPORT_CONNECTION_NAME c\nEXPORT_BUCKET_URI ${value}`);
    expect(uri('s3://my-bucket/a/b').spec?.export?.bucketUri).toBe('s3://my-bucket/a/b/');
    expect(uri('s3://my-bucket/a/b/').spec?.export?.bucketUri).toBe('s3://my-bucket/a/b/');
    expect(uri('s3://my-bucket/').spec?.export?.bucketUri).toBe('s3://my-bucket/');
    expect(uri('s3://my-bucket').spec?.export?.bucketUri).toBe('s3://my-bucket/');
    expect(uri('"s3://my.bucket-1/x"').spec?.export?.bucketUri).toBe('s3://my.bucket-1/x/');
  });

  it('checks EXPORT_BUCKET_URI', () => {
    const uriProblems = (value: string) => problemsOf(`EXPORT_CONNECTION_NAME c\nEXPORT_BUCKET_URI ${value}`);
    expect(uriProblems('https://my-bucket.s3.amazonaws.com/x/')).toEqual([
      [2, 'EXPORT_BUCKET_URI "https://my-bucket.s3.amazonaws.com/x/" must start with s3://, e.g. s3://my-bucket/exports/'],
    ]);
    expect(uriProblems('s3://My_Bucket/x/')).toEqual([
      [2, 'the bucket "My_Bucket" in EXPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens'],
    ]);
    expect(uriProblems('s3://ab/')).toHaveLength(1);
    expect(uriProblems('s3:///x/')).toHaveLength(1);
    for (const glob of ['*', '?', '{', '}', '[', ']']) {
      expect(uriProblems(`s3://my-bucket/a${glob}/`)).toEqual([
        [
          2,
          `EXPORT_BUCKET_URI "s3://my-bucket/a${glob}/" contains the pattern character "${glob}": write the folder the files go to, without patterns, e.g. s3://my-bucket/exports/`,
        ],
      ]);
    }
    expect(uriProblems('s3://my-bucket/a//b/')).toEqual([[2, 'EXPORT_BUCKET_URI "s3://my-bucket/a//b/" contains "//", an empty folder name: write a single "/"']]);
    expect(uriProblems('s3://my-bucket//')).toHaveLength(1);
    expect(uriProblems('s3://my-bucket/a/../b/')).toEqual([
      [2, 'EXPORT_BUCKET_URI "s3://my-bucket/a/../b/" has ".." as a folder: S3 keys have no parent folder, so remove it'],
    ]);
    expect(uriProblems('s3://my-bucket/a\\b/')).toEqual([
      [2, 'EXPORT_BUCKET_URI "s3://my-bucket/a\\\\b/" contains a control character or a backslash: separate folders with "/"'],
    ]);
  });

  it('requires EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI with any EXPORT_* setting, at the first EXPORT_ line', () => {
    const text = ['SCHEMA >', '    `a` String', '', 'EXPORT_FORMAT csv', 'EXPORT_SCHEDULE @daily'].join('\n');
    expect(problemsOf(text)).toEqual([
      [4, 'EXPORT_CONNECTION_NAME is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI'],
      [4, 'EXPORT_BUCKET_URI is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI'],
    ]);
    expect(problemsOf('ENGINE MergeTree\nEXPORT_BUCKET_URI s3://bkt/x/')).toEqual([
      [2, 'EXPORT_CONNECTION_NAME is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI'],
    ]);
    expect(problemsOf('EXPORT_CONNECTION_NAME c')).toEqual([
      [1, 'EXPORT_BUCKET_URI is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI'],
    ]);
  });

  it('reports a malformed connection name and returns a well-formed one even when other settings fail', () => {
    expect(problemsOf('EXPORT_CONNECTION_NAME my-s3\nEXPORT_BUCKET_URI s3://bkt/x/')).toEqual([
      [
        1,
        'EXPORT_CONNECTION_NAME "my-s3" is not a connection name: write the base name of a file in connections/, e.g. my_s3 for connections/my_s3.connection',
      ],
    ]);
    const broken = parse('EXPORT_FORMAT xml\nEXPORT_CONNECTION_NAME other\n');
    expect(broken.spec).toBeUndefined();
    expect(broken.exportConnection).toEqual({ name: 'other', line: 2 });
    expect(broken.connection).toBeUndefined();
  });

  it('validates EXPORT_FILE_TEMPLATE, each problem at its line', () => {
    expect(exportOf('EXPORT_FILE_TEMPLATE "{{ TABLE }}/{{SYNC_ID}}.{{FORMAT}}"')?.fileTemplate).toBe('{{ TABLE }}/{{SYNC_ID}}.{{FORMAT}}');
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE /{{TABLES}}/%q.csv')).toEqual([
      [
        3,
        'EXPORT_FILE_TEMPLATE: {{TABLES}} is not a placeholder: use {{TABLE}} {{TABLE_HYPHEN}} {{SYNC_ID}} {{UUID}} {{PART}} {{FORMAT}} {{YEAR}} {{MONTH}} {{DAY}} {{HOUR}} {{MINUTE}} {jobId}, or the time specifiers %Y %m %d %H %M %S %F %T',
      ],
      [3, 'EXPORT_FILE_TEMPLATE: %q is not a supported time specifier: use %Y %m %d %H %M %S %F %T, or write %% for a literal %'],
      [3, 'EXPORT_FILE_TEMPLATE: the template starts with "/": keys are written under the prefix of EXPORT_BUCKET_URI, so remove the leading "/"'],
    ]);
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE ""')).toEqual([
      [
        3,
        'EXPORT_FILE_TEMPLATE: the template is empty: write the key of each file, e.g. {{TABLE}}/{{YEAR}}-{{MONTH}}-{{DAY}}/{{SYNC_ID}}-part-{{PART}}.{{FORMAT}}',
      ],
    ]);
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE >\n    a.csv')).toEqual([[3, 'EXPORT_FILE_TEMPLATE takes a value on the same line, not a ">" block']]);
  });

  it('refuses a template line whose " #" the lexer would take as a comment, and keeps a quoted "#"', () => {
    const reason =
      'EXPORT_FILE_TEMPLATE: the "#" after a space on this line starts a comment, so the key would end before it; to keep "#" in the key, write the whole value in double quotes ("…#…"), and put a comment on a line of its own';
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE {{TABLE}}/run #1-{{SYNC_ID}}.{{FORMAT}}')).toEqual([[3, reason]]);
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}   # the daily files')).toEqual([[3, reason]]);
    expect(exportOf('EXPORT_FILE_TEMPLATE "{{TABLE}}/run #1-{{SYNC_ID}}.{{FORMAT}}"')?.fileTemplate).toBe('{{TABLE}}/run #1-{{SYNC_ID}}.{{FORMAT}}');
    expect(exportOf('EXPORT_FILE_TEMPLATE {{TABLE}}/run#1-{{SYNC_ID}}.{{FORMAT}}')?.fileTemplate).toBe('{{TABLE}}/run#1-{{SYNC_ID}}.{{FORMAT}}');
    expect(exportOf('# the daily files', 'EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}')?.fileTemplate).toBe('{{TABLE}}/{{SYNC_ID}}.{{FORMAT}}');
  });

  it('refuses a template two runs could render alike: a run never overwrites an earlier run\'s file', () => {
    const reason = "EXPORT_FILE_TEMPLATE: two runs could write the same key, and the second would overwrite the first's file: add {{SYNC_ID}} (one per run), {{UUID}} (one per file) or {jobId}";
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE events_%Y%m%d.{{FORMAT}}')).toEqual([[3, reason]]);
    expect(problemsOfSetting('EXPORT_FILE_TEMPLATE {{TABLE}}/{{YEAR}}/{{MONTH}}/{{DAY}}/{{HOUR}}-{{MINUTE}}-part-{{PART}}.csv')).toEqual([[3, reason]]);
    for (const unique of ['{{SYNC_ID}}', '{{UUID}}', '{jobId}']) expect(problemsOfSetting(`EXPORT_FILE_TEMPLATE events_%Y%m%d_${unique}.csv`)).toEqual([]);
  });

  it('warns when a template without {{PART}} or {{UUID}} may have to write several files', () => {
    expect(exportOf('EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}')?.fileTemplate).toBe('{{TABLE}}/{{SYNC_ID}}.{{FORMAT}}');
    expect(warningsOf(withExport('EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}'))).toEqual([]);
    expect(warningsOf(withExport('EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}.{{FORMAT}}', 'EXPORT_MAX_ROWS_PER_FILE 10'))).toEqual([
      [
        3,
        'EXPORT_FILE_TEMPLATE has neither {{PART}} nor {{UUID}}, so a run that writes several files (EXPORT_MAX_ROWS_PER_FILE) would give them the same key and fails: add {{PART}}, e.g. -part-{{PART}} before the extension',
      ],
    ]);
    expect(warningsOf(withExport('EXPORT_FILE_TEMPLATE {{TABLE}}/{{UUID}}.{{FORMAT}}', 'EXPORT_MAX_ROWS_PER_FILE 10'))).toEqual([]);
  });

  it('rejects gzip with parquet and warns about settings of other formats', () => {
    expect(problemsOfSetting('EXPORT_COMPRESSION zip')).toEqual([[3, 'EXPORT_COMPRESSION "zip" is not supported: use none or gzip']]);
    expect(problemsOf(withExport('EXPORT_FORMAT parquet', 'EXPORT_COMPRESSION gzip'))).toEqual([
      [4, 'EXPORT_COMPRESSION gzip cannot be used with EXPORT_FORMAT parquet; parquet is compressed inside the file: use EXPORT_PARQUET_COMPRESSION'],
    ]);
    expect(exportOf('EXPORT_FORMAT parquet', 'EXPORT_COMPRESSION none')?.compression).toBe('none');

    const text = withExport('EXPORT_PARQUET_COMPRESSION none', 'EXPORT_PARQUET_ROW_GROUP_SIZE 5');
    expect(parse(text).spec?.export).toMatchObject({ format: 'csv', parquetCompression: 'none', parquetRowGroupSize: 5 });
    expect(warningsOf(text)).toEqual([
      [3, 'EXPORT_PARQUET_COMPRESSION has no effect with EXPORT_FORMAT csv: remove it, or set EXPORT_FORMAT parquet'],
      [4, 'EXPORT_PARQUET_ROW_GROUP_SIZE has no effect with EXPORT_FORMAT csv: remove it, or set EXPORT_FORMAT parquet'],
    ]);
    expect(warningsOf(withExport('EXPORT_FORMAT json', 'EXPORT_CSV_DELIMITER ;', 'EXPORT_CSV_HEADER true', 'EXPORT_PARQUET_COMPRESSION zstd'))).toEqual([
      [4, 'EXPORT_CSV_DELIMITER has no effect with EXPORT_FORMAT jsonl: remove it, or set EXPORT_FORMAT csv'],
      [5, 'EXPORT_CSV_HEADER has no effect with EXPORT_FORMAT jsonl: remove it, or set EXPORT_FORMAT csv'],
      [6, 'EXPORT_PARQUET_COMPRESSION has no effect with EXPORT_FORMAT jsonl: remove it, or set EXPORT_FORMAT parquet'],
    ]);
    // No cascade from an invalid format.
    const invalid = parse(withExport('EXPORT_FORMAT xml', 'EXPORT_PARQUET_COMPRESSION zstd', 'EXPORT_COMPRESSION gzip'));
    expect(invalid.problems.map((p) => p.location.line)).toEqual([3]);
    expect(invalid.warnings).toEqual([]);
  });

  it('checks the parquet settings', () => {
    expect(exportOf('EXPORT_FORMAT parquet')?.parquetCompression).toBe('zstd');
    expect(exportOf('EXPORT_FORMAT parquet', 'EXPORT_PARQUET_COMPRESSION ZSTD')?.parquetCompression).toBe('zstd');
    expect(problemsOfSetting('EXPORT_PARQUET_COMPRESSION lz4')).toEqual([
      [3, 'EXPORT_PARQUET_COMPRESSION "lz4" is not supported: use zstd, snappy or none'],
    ]);
    expect(exportOf('EXPORT_FORMAT parquet', 'EXPORT_PARQUET_ROW_GROUP_SIZE 1')?.parquetRowGroupSize).toBe(1);
    for (const bad of ['0', '-1', '1.5', 'many', '']) {
      expect(problemsOfSetting(`EXPORT_PARQUET_ROW_GROUP_SIZE "${bad}"`), bad).toEqual([
        [3, `EXPORT_PARQUET_ROW_GROUP_SIZE must be a whole number of rows from 1 to ${Number.MAX_SAFE_INTEGER}, not ${JSON.stringify(bad)}`],
      ]);
    }
  });

  it('reads EXPORT_CSV_DELIMITER as one character after unquoting', () => {
    const delimiter = (value: string) => exportOf(`EXPORT_CSV_DELIMITER ${value}`)?.csvDelimiter;
    expect(delimiter('","')).toBe(',');
    expect(delimiter('";"')).toBe(';');
    expect(delimiter('"|"')).toBe('|');
    expect(delimiter('"\\t"')).toBe('\t');
    expect(delimiter('\\t')).toBe('\t');
    expect(delimiter("'|'")).toBe('|');
    expect(delimiter(';')).toBe(';');
    expect(delimiter('" "')).toBe(' ');
    const hint = 'write one character, e.g. "," or ";" or "|", or "\\t" for a tab';
    expect(problemsOfSetting('EXPORT_CSV_DELIMITER ""')).toEqual([[3, `EXPORT_CSV_DELIMITER must be exactly one character, not "": ${hint}`]]);
    expect(problemsOfSetting('EXPORT_CSV_DELIMITER ";;"')).toEqual([[3, `EXPORT_CSV_DELIMITER must be exactly one character, not ";;": ${hint}`]]);
    expect(problemsOfSetting('EXPORT_CSV_DELIMITER "\\n"')).toEqual([[3, `EXPORT_CSV_DELIMITER must be exactly one character, not "\\\\n": ${hint}`]]);
    expect(problemsOfSetting('EXPORT_CSV_DELIMITER "\\""')).toEqual([
      [3, `EXPORT_CSV_DELIMITER "\\"" cannot be a double quote or a line break, which CSV uses itself: ${hint}`],
    ]);
    expect(problemsOfSetting('EXPORT_CSV_DELIMITER "§"')).toEqual([
      [3, `EXPORT_CSV_DELIMITER "§" is not an ASCII character, which ClickHouse requires: ${hint}`],
    ]);
  });

  it('reads the true / false settings', () => {
    expect(exportOf('EXPORT_CSV_HEADER false', 'EXPORT_WRITE_EMPTY true', 'EXPORT_TEST_WRITE FALSE')).toMatchObject({
      csvHeader: false,
      writeEmpty: true,
      testWrite: false,
    });
    expect(problemsOf(withExport('EXPORT_CSV_HEADER yes', 'EXPORT_WRITE_EMPTY 1', 'EXPORT_TEST_WRITE ""'))).toEqual([
      [3, 'EXPORT_CSV_HEADER must be true or false, not "yes"'],
      [4, 'EXPORT_WRITE_EMPTY must be true or false, not "1"'],
      [5, 'EXPORT_TEST_WRITE must be true or false, not ""'],
    ]);
  });

  it('reads EXPORT_COLUMN_CASE and EXPORT_STRATEGY in any case', () => {
    expect(exportOf('EXPORT_COLUMN_CASE lower')?.columnCase).toBe('lower');
    expect(exportOf('EXPORT_COLUMN_CASE Upper')?.columnCase).toBe('upper');
    expect(exportOf('EXPORT_STRATEGY New')?.strategy).toBe('new');
    expect(exportOf('EXPORT_STRATEGY full')?.strategy).toBe('full');
    expect(problemsOf(withExport('EXPORT_COLUMN_CASE camel', 'EXPORT_STRATEGY append'))).toEqual([
      [3, 'EXPORT_COLUMN_CASE "camel" is not supported: use upper or lower, or remove it to keep the column names as they are'],
      [4, 'EXPORT_STRATEGY "append" is not supported: use new (the rows imported since the last export) or full (every row)'],
    ]);
  });

  it('reads EXPORT_MAX_ROWS_PER_FILE from 1 to 1000000000', () => {
    expect(exportOf('EXPORT_MAX_ROWS_PER_FILE 1')?.maxRowsPerFile).toBe(1);
    expect(exportOf('EXPORT_MAX_ROWS_PER_FILE "1000000000"')?.maxRowsPerFile).toBe(1_000_000_000);
    for (const bad of ['0', '1000000001', '-3', '2.5', '1e6', 'ten']) {
      expect(problemsOfSetting(`EXPORT_MAX_ROWS_PER_FILE ${bad}`), bad).toEqual([
        [3, `EXPORT_MAX_ROWS_PER_FILE must be a whole number of rows from 1 to 1000000000, not ${JSON.stringify(bad)}`],
      ]);
    }
  });

  it('reads EXPORT_QUERY on one line or as a block, trimmed', () => {
    expect(exportOf('EXPORT_QUERY "select * from events"')?.query).toBe('select * from events');
    const block = [
      'EXPORT_QUERY >', // 3
      '    WITH recent AS (', // 4
      "        SELECT * FROM events WHERE action = 'a;b FORMAT CSV'", // 5
      '    )', // 6
      '', // 7
      '    SELECT id, formatDateTime(ts, \'%F\') AS day, format FROM recent ORDER BY format DESC', // 8
      '', // 9
      'EXPORT_FORMAT csv', // 10
    ];
    const result = parse(withExport(...block));
    expect(result.problems).toEqual([]);
    expect(result.spec?.export?.query).toBe(
      "WITH recent AS (\n    SELECT * FROM events WHERE action = 'a;b FORMAT CSV'\n)\n\nSELECT id, formatDateTime(ts, '%F') AS day, format FROM recent ORDER BY format DESC",
    );
    expect(result.spec?.export?.format).toBe('csv');
    expect(exportOf('EXPORT_QUERY SELECT `x;y` FROM t -- no; comment')?.query).toBe('SELECT `x;y` FROM t -- no; comment');
  });

  it('checks EXPORT_QUERY', () => {
    expect(problemsOfSetting('EXPORT_QUERY DELETE FROM events')).toEqual([
      [3, 'EXPORT_QUERY must be a query starting with SELECT or WITH, not "DELETE FROM events"'],
    ]);
    expect(problemsOfSetting('EXPORT_QUERY SELECTED')).toHaveLength(1);
    expect(problemsOfSetting('EXPORT_QUERY SELECT 1; DROP TABLE events')).toEqual([
      [3, 'EXPORT_QUERY contains ";": write a single query, without ";"'],
    ]);
    expect(problemsOfSetting('EXPORT_QUERY SELECT 1;')).toHaveLength(1);
    expect(problemsOfSetting('EXPORT_QUERY SELECT * FROM events FORMAT JSONEachRow')).toEqual([
      [3, 'EXPORT_QUERY has a FORMAT clause: remove it, the format is set by EXPORT_FORMAT'],
    ]);
    expect(problemsOfSetting('EXPORT_QUERY select * from events format CSV settings max_threads = 1')).toHaveLength(1);
    expect(problemsOfSetting('EXPORT_QUERY ""')).toEqual([
      [3, 'EXPORT_QUERY is empty: write a SELECT, or remove EXPORT_QUERY to export every column of the table'],
    ]);
    expect(problemsOf(withExport('EXPORT_QUERY >', '    DELETE FROM events', 'EXPORT_FORMAT csv'))).toEqual([
      [3, 'EXPORT_QUERY must be a query starting with SELECT or WITH, not "DELETE FROM events"'],
    ]);
    expect(problemsOf(withExport('EXPORT_QUERY >', '    SELECT * FROM {{ table }}'))).toEqual([
      [3, 'EXPORT_QUERY cannot use a {{ }} template: write the value itself'],
    ]);
  });

  it('reads EXPORT_SCHEDULE: @on-demand, cron shorthands and cron expressions', () => {
    const schedule = (value: string) => exportOf(`EXPORT_SCHEDULE ${value}`)?.schedule;
    expect(schedule('@on-demand')).toBe('@on-demand');
    expect(schedule('@hourly')).toBe('0 * * * *');
    expect(schedule('@daily')).toBe('0 0 * * *');
    expect(schedule('@weekly')).toBe('0 0 * * 0');
    expect(schedule('@monthly')).toBe('0 0 1 * *');
    expect(schedule('@Daily')).toBe('0 0 * * *');
    expect(schedule('"0 3 * * *"')).toBe('0 3 * * *');
    expect(schedule('*/5  *  * * *')).toBe('*/5 * * * *');
    expect(schedule('0 9-17/2 1,15 JAN-jun MON-FRI')).toBe('0 9-17/2 1,15 JAN-jun MON-FRI');
    expect(schedule('30 0 9 * * sun')).toBe('30 0 9 * * sun');
    const message = (value: string) =>
      `EXPORT_SCHEDULE ${JSON.stringify(value)} is not a schedule: write @on-demand, @hourly, @daily, @weekly, @monthly, or a cron expression of 5 or 6 fields made of *, digits, ",", "-", "/" and month or day names, e.g. "0 * * * *" for every hour`;
    for (const bad of ['@auto', '@yearly', '* * * *', '* * * * * * *', '0 0 * * MONDAY', '0 0 ? * *', '0,,1 * * * *', '*/x * * * *', '0 0 L * *', '']) {
      expect(problemsOfSetting(`EXPORT_SCHEDULE "${bad}"`), bad).toEqual([[3, message(bad)]]);
    }
  });

  it('checks the encryption settings', () => {
    expect(exportOf('EXPORT_SSE AES256')).toMatchObject({ sse: 'AES256' });
    expect(exportOf('EXPORT_SSE aes256')?.sseKmsKeyId).toBeUndefined();
    expect(exportOf('EXPORT_SSE AWS:KMS', 'EXPORT_SSE_KMS_KEY_ID alias/exports')).toMatchObject({ sse: 'aws:kms', sseKmsKeyId: 'alias/exports' });
    expect(problemsOfSetting('EXPORT_SSE kms')).toEqual([[3, 'EXPORT_SSE "kms" is not supported: use AES256 or aws:kms']]);
    expect(problemsOfSetting('EXPORT_SSE aws:kms')).toEqual([
      [3, 'EXPORT_SSE aws:kms needs EXPORT_SSE_KMS_KEY_ID: set it to the id, ARN or alias of the KMS key'],
    ]);
    const onlyWithKms =
      'EXPORT_SSE_KMS_KEY_ID is only used with EXPORT_SSE aws:kms: add EXPORT_SSE aws:kms, or remove EXPORT_SSE_KMS_KEY_ID';
    expect(problemsOfSetting('EXPORT_SSE_KMS_KEY_ID abcd')).toEqual([[3, onlyWithKms]]);
    expect(problemsOf(withExport('EXPORT_SSE AES256', 'EXPORT_SSE_KMS_KEY_ID abcd'))).toEqual([[4, onlyWithKms]]);
    expect(problemsOf(withExport('EXPORT_SSE aws:kms', 'EXPORT_SSE_KMS_KEY_ID "my key"'))).toEqual([
      [4, 'EXPORT_SSE_KMS_KEY_ID "my key" is not a key id: write the id, ARN or alias of the KMS key, without spaces'],
    ]);
    // An invalid EXPORT_SSE is reported once, without a second problem about the key.
    expect(problemsOf(withExport('EXPORT_SSE kms', 'EXPORT_SSE_KMS_KEY_ID abcd'))).toEqual([[3, 'EXPORT_SSE "kms" is not supported: use AES256 or aws:kms']]);
  });

  it('reads EXPORT_ACL, a canned ACL', () => {
    const acls = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'];
    for (const acl of acls) expect(exportOf(`EXPORT_ACL ${acl}`)?.acl).toBe(acl);
    expect(exportOf('EXPORT_ACL Private')?.acl).toBe('private');
    expect(problemsOfSetting('EXPORT_ACL log-delivery-write')).toEqual([
      [3, `EXPORT_ACL "log-delivery-write" is not supported: use one of the canned ACLs ${acls.join(', ')}`],
    ]);
  });

  it('reports unknown EXPORT_ directives with the known ones', () => {
    expect(problemsOf(withExport('EXPORT_SERVICE s3', 'EXPORT_FORMAT csv', 'EXPORT_PARTITION x'))).toEqual([
      [3, `unknown directive EXPORT_SERVICE: the EXPORT_* settings are ${KNOWN_EXPORT}`],
      [5, `unknown directive EXPORT_PARTITION: the EXPORT_* settings are ${KNOWN_EXPORT}`],
    ]);
    expect(problemsOf('KAFKA_TOPIC t')[0]?.[1]).toContain(`IMPORT_MAX_FILES_PER_RUN, IMPORT_CSV_HEADER, ${KNOWN_EXPORT}`);
  });

  it('reports blocks, templates and repeats of EXPORT_* directives', () => {
    expect(problemsOf(withExport('EXPORT_FORMAT >', '    csv', 'EXPORT_ACL {{ env("ACL") }}', 'EXPORT_FORMAT csv', 'EXPORT_FORMAT jsonl'))).toEqual([
      [3, 'EXPORT_FORMAT takes a value on the same line, not a ">" block'],
      [5, 'EXPORT_ACL cannot use a {{ }} template: write the value itself'],
      [6, 'EXPORT_FORMAT is set twice (first on line 3): keep only one'],
      [7, 'EXPORT_FORMAT is set twice (first on line 3): keep only one'],
    ]);
  });

  it('collects every EXPORT_* problem of a file, each at its exact line', () => {
    const text = [
      'DESCRIPTION "exports"', // 1
      'EXPORT_FORMAT parquet', // 2
      'EXPORT_CONNECTION_NAME 1bad', // 3
      'EXPORT_COMPRESSION gzip', // 4
      'EXPORT_FILE_TEMPLATE {{X}}/a.csv', // 5
      'EXPORT_SCHEDULE every hour', // 6
      'EXPORT_STRATEGY all', // 7
      'EXPORT_QUERY SELECT 1 FORMAT CSV', // 8
      'EXPORT_SSE aws:kms', // 9
      'EXPORT_CSV_DELIMITER tab', // 10
      'EXPORT_UNKNOWN x', // 11
      'EXPORT_MAX_ROWS_PER_FILE 0', // 12
    ].join('\n');
    const { spec, problems } = parse(text);
    expect(spec).toBeUndefined();
    expect(problems.map((p) => p.location.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(problems[0]?.message).toBe('EXPORT_BUCKET_URI is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI');
    expect(problems.every((p) => p.location.file === FILE)).toBe(true);
  });
});

describe('EXPORT_CONNECTION_NAME through loadProject', () => {
  const CONNECTION = 'TYPE s3\nS3_REGION "us-east-1"\n';
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bucketpipe-export-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(relative: string, text: string): Promise<void> {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), text);
  }

  it('loads a datasource that only exports', async () => {
    await write('connections/out_s3.connection', CONNECTION);
    await write('datasources/events.datasource', 'EXPORT_CONNECTION_NAME out_s3\nEXPORT_BUCKET_URI s3://out-bucket/x\n');
    const { project, errors, warnings } = await loadProject(dir);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(project.datasources.get('events')?.export).toMatchObject({ connectionName: 'out_s3', bucketUri: 's3://out-bucket/x/' });
  });

  it('reports an EXPORT_CONNECTION_NAME that names no connection, at its line', async () => {
    await write('connections/out_s3.connection', CONNECTION);
    await write('connections/in_s3.connection', CONNECTION);
    await write(
      'datasources/events.datasource',
      'IMPORT_CONNECTION_NAME in_s3\nIMPORT_BUCKET_URI s3://in-bucket/*.csv\nEXPORT_BUCKET_URI s3://out-bucket/\nEXPORT_CONNECTION_NAME OUT_S3\n',
    );
    await write('datasources/other.datasource', 'EXPORT_CONNECTION_NAME missing\nEXPORT_BUCKET_URI s3://out-bucket/\n');
    const { project, errors } = await loadProject(dir);
    expect(errors).toEqual([
      {
        location: { file: 'datasources/events.datasource', line: 4 },
        message: 'EXPORT_CONNECTION_NAME "OUT_S3" names no connection (did you mean out_s3?): use one of in_s3, out_s3, or add connections/OUT_S3.connection',
      },
      {
        location: { file: 'datasources/other.datasource', line: 1 },
        message: 'EXPORT_CONNECTION_NAME "missing" names no connection: use one of in_s3, out_s3, or add connections/missing.connection',
      },
    ]);
    // The file itself parses: the cross-file problem is the project's.
    expect(project.datasources.get('events')?.export?.connectionName).toBe('OUT_S3');
  });

  it('reports both connection names when neither exists, and when there is no connection at all', async () => {
    await write(
      'datasources/events.datasource',
      'IMPORT_CONNECTION_NAME a\nIMPORT_BUCKET_URI s3://in-bucket/*.csv\nEXPORT_CONNECTION_NAME b\nEXPORT_BUCKET_URI s3://out-bucket/\n',
    );
    const { errors } = await loadProject(dir);
    expect(errors.map((e) => [e.location.line, e.message])).toEqual([
      [1, 'IMPORT_CONNECTION_NAME "a" names no connection: there are no connections; add connections/a.connection'],
      [3, 'EXPORT_CONNECTION_NAME "b" names no connection: there are no connections; add connections/b.connection'],
    ]);
  });
});
