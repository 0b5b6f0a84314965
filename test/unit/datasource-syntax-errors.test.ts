import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { formatProblem, loadProject } from '../../src/project/index.js';

/**
 * The `.datasource` half of the bad-input matrix (issue 7): every kind of syntax error, each in a
 * file of its own, through the real project loader. Each must be reported as `file:line: message`
 * at the line to change; the project then does not open, so push applies nothing.
 */
const CONNECTION = 'TYPE s3\nS3_REGION "us-east-1"\n';
const IMPORT = 'IMPORT_SERVICE s3\nIMPORT_CONNECTION_NAME local\nIMPORT_BUCKET_URI s3://bucket/x/*.csv\nIMPORT_SCHEDULE @on-demand\nIMPORT_STRATEGY APPEND\n';

interface SyntaxCase {
  /** The test name and the file name (datasources/<file>.datasource). */
  name: string;
  file: string;
  text: string;
  /** Every problem of the file: [line, message pattern]. */
  problems: Array<[number, RegExp]>;
}

const CASES: SyntaxCase[] = [
  { name: 'a directive in lower case', file: 'lower_case', text: `schema >\n    \`a\` String\n${IMPORT}`, problems: [[1, /directive names are upper-case, write SCHEMA/], [2, /expected a directive name/]] },
  { name: 'a line that is not a directive', file: 'stray_text', text: `SCHEMA >\n    \`a\` String\n${IMPORT}this is not a directive\n`, problems: [[8, /expected a directive name .* found "this"/]] },
  { name: 'no space before ">"', file: 'no_space', text: `SCHEMA>\n    \`a\` String\n${IMPORT}`, problems: [[1, /put a space before ">", as in SCHEMA >/], [2, /expected a directive name/]] },
  { name: 'text after ">"', file: 'after_block', text: `SCHEMA > \`a\` String\n    \`b\` String\n${IMPORT}`, problems: [[1, /nothing may follow ">"/]] },
  { name: 'a quoted value never closed', file: 'open_quote', text: `SCHEMA >\n    \`a\` String\nENGINE "MergeTree\n${IMPORT}`, problems: [[3, /starts with a double quote that is never closed/], [3, /is not supported/]] },
  { name: 'an unknown directive', file: 'unknown', text: `SCHEMA >\n    \`a\` String\nKAFKA_TOPIC events\n${IMPORT}`, problems: [[3, /^unknown directive KAFKA_TOPIC/]] },
  { name: 'a directive set twice', file: 'twice', text: `SCHEMA >\n    \`a\` String\nENGINE MergeTree\nENGINE MergeTree\n${IMPORT}`, problems: [[4, /ENGINE is set twice \(first on line 3\)/]] },
  { name: 'SCHEMA written as a value', file: 'schema_value', text: `SCHEMA \`a\` String\n${IMPORT}`, problems: [[1, /SCHEMA must be a block/]] },
  { name: 'an empty SCHEMA block', file: 'schema_empty', text: `SCHEMA >\n\n${IMPORT}`, problems: [[1, /SCHEMA > has no columns/]] },
  { name: 'a column without a type', file: 'no_type', text: `SCHEMA >\n    \`a\` String,\n    \`b\`\n${IMPORT}`, problems: [[3, /b.*type/]] },
  { name: 'unbalanced parentheses in a type', file: 'parens', text: `SCHEMA >\n    \`a\` String,\n    \`b\` Array(String,\n    \`c\` Int8\n${IMPORT}`, problems: [[3, /parenthes/]] },
  { name: 'a column name whose backtick is never closed', file: 'open_backtick', text: `SCHEMA >\n    \`a String,\n    \`b\` Int8\n${IMPORT}`, problems: [[2, /not closed/]] },
  { name: 'a column defined twice', file: 'dup_column', text: `SCHEMA >\n    \`a\` String,\n    \`a\` Int8\n${IMPORT}`, problems: [[3, /column "a" is defined twice \(first on line 2\)/]] },
  { name: 'an empty column definition', file: 'double_comma', text: `SCHEMA >\n    \`a\` String,,\n    \`b\` Int8\n${IMPORT}`, problems: [[2, /empty column definition/]] },
  { name: 'a json path that does not start with $', file: 'json_path', text: `SCHEMA >\n    \`a\` String \`json:a.b\`\n${IMPORT}`, problems: [[2, /json path "a\.b" must start with \$/]] },
  { name: 'text after the type', file: 'after_type', text: `SCHEMA >\n    \`a\` String extra words\n${IMPORT}`, problems: [[2, /unexpected .* after the type/]] },
  { name: 'an engine outside the MergeTree family', file: 'engine', text: `SCHEMA >\n    \`a\` String\nENGINE Memory\n${IMPORT}`, problems: [[3, /MergeTree/]] },
  { name: 'a block where a value belongs', file: 'block_value', text: `SCHEMA >\n    \`a\` String\nENGINE_TTL >\n    a + 1\n${IMPORT}`, problems: [[3, /ENGINE_TTL takes a value on the same line, not a ">" block/]] },
  { name: 'a template outside a connection', file: 'template', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace('IMPORT_CONNECTION_NAME local', 'IMPORT_CONNECTION_NAME {{ tb_secret("C") }}')}`, problems: [[4, /IMPORT_CONNECTION_NAME cannot use a \{\{ \}\} template/]] },
  { name: 'a bucket URI that is not s3://', file: 'not_s3', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace('s3://bucket/x/*.csv', 'gs://bucket/x/*.csv')}`, problems: [[5, /IMPORT_BUCKET_URI/]] },
  { name: 'a schedule that is not @auto or @on-demand', file: 'schedule', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace('@on-demand', '@hourly')}`, problems: [[6, /@hourly/]] },
  { name: 'a strategy other than APPEND', file: 'strategy', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace('APPEND', 'REPLACE')}`, problems: [[7, /only APPEND/]] },
  { name: 'an unknown format', file: 'format', text: `SCHEMA >\n    \`a\` String\n${IMPORT}IMPORT_FORMAT xml\n`, problems: [[8, /IMPORT_FORMAT/]] },
  { name: 'a files-per-run limit that is not a number', file: 'limit', text: `SCHEMA >\n    \`a\` String\n${IMPORT}IMPORT_MAX_FILES_PER_RUN many\n`, problems: [[8, /IMPORT_MAX_FILES_PER_RUN/]] },
  { name: 'IMPORT_* settings without a bucket URI', file: 'no_uri', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace(/IMPORT_BUCKET_URI .*\n/, '')}`, problems: [[3, /IMPORT_BUCKET_URI is missing/]] },
  { name: 'a connection that does not exist', file: 'no_connection', text: `SCHEMA >\n    \`a\` String\n${IMPORT.replace('IMPORT_CONNECTION_NAME local', 'IMPORT_CONNECTION_NAME nowhere')}`, problems: [[4, /nowhere/]] },
  { name: 'an export template that leaves its prefix', file: 'template_escape', text: `SCHEMA >\n    \`a\` String\nEXPORT_CONNECTION_NAME local\nEXPORT_BUCKET_URI s3://bucket/out/\nEXPORT_FILE_TEMPLATE ../../{{TABLE}}.csv\n`, problems: [[5, /has "\.\." as a folder/]] },
  { name: 'a file name that is not a name', file: 'bad-name', text: `SCHEMA >\n    \`a\` String\n${IMPORT}`, problems: [[1, /bad-name/]] },
  { name: 'bytes that are not text', file: 'binary', text: `SCHEMA >\n    \`a\` String\n\u0000\u0001\u00ff\ufffd\n${IMPORT}`, problems: [[3, /expected a directive name/]] },
];

describe('.datasource syntax errors: each reported at its line, the project refused', () => {
  let dir: string;
  const loaded = new Map<string, Awaited<ReturnType<typeof loadProject>>>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bucketpipe-syntax-'));
    for (const c of CASES) {
      const project = path.join(dir, c.file);
      await mkdir(path.join(project, 'datasources'), { recursive: true });
      await mkdir(path.join(project, 'connections'), { recursive: true });
      await writeFile(path.join(project, 'connections', 'local.connection'), CONNECTION);
      await writeFile(path.join(project, 'datasources', `${c.file}.datasource`), c.text);
      loaded.set(c.file, await loadProject(project));
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.name, () => {
      const { errors } = loaded.get(c.file)!;
      const lines = errors.map(formatProblem);
      expect(lines, lines.join('\n')).toHaveLength(c.problems.length);
      c.problems.forEach(([line, message], i) => {
        expect(lines[i]).toMatch(new RegExp(`^datasources/${c.file}\\.datasource:${line}: `));
        expect(errors[i]!.message).toMatch(message);
      });
      return expect(openApp({ projectDir: path.join(dir, c.file), env: {} })).rejects.toMatchObject({ code: 'PROJECT_INVALID' });
    });
  }

  it('a file with one of each reports them all, in line order, in one run', async () => {
    const text = [
      'schema >', //                     1 lower case
      '    `a` String,', //              2 (indented, outside a block)
      'SCHEMA >', //                     3
      '    `a` String,', //              4
      '    `a` Int8,', //                5 defined twice
      '    `b`,', //                     6 no type
      '    `c` String `json:c`', //      7 path without $
      'ENGINE Memory', //                8 not MergeTree
      'KAFKA_TOPIC t', //                9 unknown
      'IMPORT_SERVICE s3', //            10
      'IMPORT_CONNECTION_NAME local', // 11
      'IMPORT_BUCKET_URI gs://b/x', //   12 not s3
      'IMPORT_STRATEGY REPLACE', //      13 only APPEND
      'ENGINE "MergeTree', //            14 never closed (and set twice)
    ].join('\n');
    const project = path.join(dir, 'all');
    await mkdir(path.join(project, 'datasources'), { recursive: true });
    await mkdir(path.join(project, 'connections'), { recursive: true });
    await writeFile(path.join(project, 'connections', 'local.connection'), CONNECTION);
    await writeFile(path.join(project, 'datasources', 'all.datasource'), text);
    const { errors } = await loadProject(project);
    const lines = errors.map((e) => e.location.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    for (const line of [1, 2, 5, 6, 7, 8, 9, 12, 13, 14]) expect(lines, `line ${line}: ${errors.map(formatProblem).join('\n')}`).toContain(line);
    expect(errors.every((e) => e.location.file === 'datasources/all.datasource')).toBe(true);
    await expect(openApp({ projectDir: project, env: {} })).rejects.toMatchObject({ code: 'PROJECT_INVALID' });
  });
});
