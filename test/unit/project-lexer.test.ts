import { describe, it, expect } from 'vitest';
import { indexDirectives, lexDatafile, stripComment } from '../../src/project/lexer.js';
import { EXAMPLE_DATASOURCE } from '../fixtures/example-project.js';

const FILE = 'datasources/events.datasource';

describe('lexDatafile', () => {
  it('lexes the Tinybird example into directives with their lines', () => {
    const { directives, problems } = lexDatafile(EXAMPLE_DATASOURCE, FILE);
    expect(problems).toEqual([]);
    expect(directives.map((d) => [d.name, d.value, d.line])).toEqual([
      ['DESCRIPTION', '', 1],
      ['SCHEMA', '', 4],
      ['ENGINE', 'MergeTree', 10],
      ['ENGINE_PARTITION_KEY', 'toYYYYMM(timestamp)', 11],
      ['ENGINE_SORTING_KEY', 'timestamp', 12],
      ['IMPORT_SERVICE', 's3', 13],
      ['IMPORT_CONNECTION_NAME', 'my_s3', 14],
      ['IMPORT_BUCKET_URI', 's3://my-bucket/events/*.ndjson.gz', 15],
      ['IMPORT_SCHEDULE', '@auto', 16],
      ['IMPORT_STRATEGY', 'APPEND', 17],
    ]);
    expect(directives[0]?.block).toEqual([{ text: 'Events from the app', line: 2 }]);
    expect(directives[1]?.block).toEqual([
      { text: '`timestamp` DateTime `json:$.timestamp`,', line: 5 },
      { text: '`session_id` String `json:$.session_id`,', line: 6 },
      { text: '`action` LowCardinality(String) `json:$.action`,', line: 7 },
      { text: '`payload` String `json:$.payload`', line: 8 },
    ]);
    expect(directives[2]?.block).toBeUndefined();
  });

  it('gives the same result for CRLF line ends and a UTF-8 byte order mark', () => {
    const crlf = '\uFEFF' + EXAMPLE_DATASOURCE.replace(/\n/g, '\r\n');
    expect(lexDatafile(crlf, FILE)).toEqual(lexDatafile(EXAMPLE_DATASOURCE, FILE));
    const first = lexDatafile(crlf, FILE).directives[0];
    expect(first?.name).toBe('DESCRIPTION');
  });

  it('keeps blank lines inside a block, drops trailing ones, and removes the common indentation', () => {
    const text = 'DESCRIPTION >\n\tFirst paragraph\n\n\t  indented more\n\n\nTOKEN x READ\n';
    const { directives } = lexDatafile(text, FILE);
    expect(directives[0]?.block).toEqual([
      { text: 'First paragraph', line: 2 },
      { text: '', line: 3 },
      { text: '  indented more', line: 4 },
    ]);
    expect(directives[1]).toEqual({ name: 'TOKEN', value: 'x READ', line: 7 });
  });

  it('ends a block at the first non-indented line, even right after the block start', () => {
    const { directives } = lexDatafile('SCHEMA >\nENGINE MergeTree\n', FILE);
    expect(directives).toEqual([
      { name: 'SCHEMA', value: '', line: 1, block: [] },
      { name: 'ENGINE', value: 'MergeTree', line: 2 },
    ]);
  });

  it('strips comments at the start of a line and after whitespace, inside and outside blocks', () => {
    const text = [
      '# a comment',
      '   # an indented comment',
      'S3_ENDPOINT "http://127.0.0.1:9000"      # optional comment',
      'SCHEMA >',
      '    # a comment inside the block',
      '    `a` String, # the a column',
      '# an unindented comment does not end the block',
      '    `b` String',
    ].join('\n');
    const { directives, problems } = lexDatafile(text, FILE);
    expect(problems).toEqual([]);
    expect(directives[0]).toEqual({ name: 'S3_ENDPOINT', value: 'http://127.0.0.1:9000', line: 3, commentCut: true });
    expect(directives[1]?.block).toEqual([
      { text: '`a` String,', line: 6 },
      { text: '`b` String', line: 8 },
    ]);
  });

  it('keeps # inside quotes, backticks, templates and words', () => {
    const text = [
      'DESCRIPTION "issue #12 # not a comment"',
      'IMPORT_BUCKET_URI s3://bucket/a#b/*.csv',
      'S3_SECRET {{ tb_secret("A #B") }}',
      'SCHEMA >',
      "    `col #1` String DEFAULT '# x', # comment",
      '    `x` String DEFAULT "#y"',
    ].join('\n');
    const { directives } = lexDatafile(text, FILE);
    expect(directives[0]?.value).toBe('issue #12 # not a comment');
    expect(directives[1]?.value).toBe('s3://bucket/a#b/*.csv');
    expect(directives[2]?.value).toBe('{{ tb_secret("A #B") }}');
    expect(directives[3]?.block?.map((l) => l.text)).toEqual(["`col #1` String DEFAULT '# x',", '`x` String DEFAULT "#y"']);
  });

  it('still finds a comment after an apostrophe in prose', () => {
    expect(stripComment("DESCRIPTION it's great # note")).toBe("DESCRIPTION it's great");
    expect(stripComment("DEFAULT 'a # b' # c")).toBe("DEFAULT 'a # b'");
    expect(stripComment('x `a\\` #b` # c')).toBe('x `a\\` #b`');
  });

  it('unquotes double-quoted values with \\" and \\\\ escapes, and keeps other values as written', () => {
    const text = [
      'DESCRIPTION "say \\"hi\\" C:\\\\dir \\n"',
      'ENGINE_TTL toDate(ts) + INTERVAL 1 DAY',
      'TOKEN "read_token" READ',
      "ENGINE_SORTING_KEY 'single'",
      'ENGINE_PARTITION_KEY ""',
    ].join('\n');
    const { directives, problems } = lexDatafile(text, FILE);
    expect(problems).toEqual([]);
    expect(directives.map((d) => d.value)).toEqual([
      'say "hi" C:\\dir \\n',
      'toDate(ts) + INTERVAL 1 DAY',
      '"read_token" READ',
      "'single'",
      '',
    ]);
  });

  it('reports an unterminated quoted value at its line', () => {
    const { directives, problems } = lexDatafile('TYPE s3\nS3_REGION "us-east-1\n', 'connections/c.connection');
    expect(problems).toEqual([
      {
        location: { file: 'connections/c.connection', line: 2 },
        message: 'the value of S3_REGION starts with a double quote that is never closed: add the closing "',
      },
    ]);
    expect(directives.map((d) => d.name)).toEqual(['TYPE', 'S3_REGION']);
  });

  it('reports lines that do not start with a directive name, with a hint, and goes on', () => {
    const text = ['schema >', 'SCHEMA>', '`a` String', 'ENGINE MergeTree', '    ENGINE_TTL x', '  , more', '9LIVES x'].join('\n');
    const { directives, problems } = lexDatafile(text, FILE);
    expect(problems.map((p) => p.location.line)).toEqual([1, 2, 3, 6, 7]);
    expect(problems[0]?.message).toBe(
      'expected a directive name (an upper-case word such as SCHEMA or IMPORT_BUCKET_URI) at the start of the line, found "schema": directive names are upper-case, write SCHEMA',
    );
    expect(problems[1]?.message).toContain('put a space before ">", as in SCHEMA >');
    expect(problems[2]?.message).toContain('found "`a`"');
    expect(problems[3]?.message).toContain('end the directive line with ">" and indent the lines below it');
    expect(problems[4]?.message).toContain('found "9LIVES"');
    expect(problems.every((p) => p.message.startsWith('expected a directive name'))).toBe(true);
    // An indented directive outside a block is accepted, as Tinybird does.
    expect(directives.map((d) => [d.name, d.line])).toEqual([
      ['ENGINE', 4],
      ['ENGINE_TTL', 5],
    ]);
  });

  it('reports text after ">" but still reads the block', () => {
    const { directives, problems } = lexDatafile('DESCRIPTION > hello\n    world\n', FILE);
    expect(problems).toEqual([
      { location: { file: FILE, line: 1 }, message: 'nothing may follow ">" on the line of DESCRIPTION: put the text on the indented lines below' },
    ]);
    expect(directives[0]?.block).toEqual([{ text: 'world', line: 2 }]);
  });

  it('accepts an empty file and a file of comments', () => {
    expect(lexDatafile('', FILE)).toEqual({ directives: [], problems: [] });
    expect(lexDatafile('\uFEFF# only a comment\r\n\r\n', FILE)).toEqual({ directives: [], problems: [] });
  });
});

describe('indexDirectives', () => {
  it('keeps the first of repeated directives and reports the others, except repeatable ones', () => {
    const { directives } = lexDatafile('ENGINE MergeTree\nTOKEN a READ\nTOKEN b APPEND\nENGINE SummingMergeTree\n', FILE);
    const { byName, problems } = indexDirectives(directives, FILE, new Set(['TOKEN']));
    expect(byName.get('ENGINE')?.value).toBe('MergeTree');
    expect(byName.get('TOKEN')?.value).toBe('a READ');
    expect(problems).toEqual([{ location: { file: FILE, line: 4 }, message: 'ENGINE is set twice (first on line 1): keep only one' }]);
  });
});
