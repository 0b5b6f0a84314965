import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatProblem, loadProject } from '../../src/project/index.js';
import { EXAMPLE_CONNECTION, EXAMPLE_CONNECTION_FILE, EXAMPLE_DATASOURCE, EXAMPLE_DATASOURCE_FILE } from '../fixtures/example-project.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bucketpipe-project-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(relative: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
  await writeFile(path.join(dir, relative), text);
}

describe('loadProject', () => {
  it('loads the example project', async () => {
    await write(EXAMPLE_CONNECTION_FILE, EXAMPLE_CONNECTION);
    await write(EXAMPLE_DATASOURCE_FILE, EXAMPLE_DATASOURCE);
    await write('pipes/ignored.pipe', 'NODE x\n');
    await write('datasources/README.md', 'not a datasource');
    const { project, errors, warnings } = await loadProject(dir);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(project.dir).toBe(path.resolve(dir));
    expect([...project.connections.keys()]).toEqual(['my_s3']);
    expect([...project.datasources.keys()]).toEqual(['events']);
    expect(project.connections.get('my_s3')).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      location: { file: 'connections/my_s3.connection', line: 1 },
    });
    const events = project.datasources.get('events');
    expect(events?.import?.connectionName).toBe('my_s3');
    expect(events?.schema?.map((c) => c.location)).toEqual([5, 6, 7, 8].map((line) => ({ file: 'datasources/events.datasource', line })));
  });

  it('accepts a project without folders, and a relative path', async () => {
    const { project, errors, warnings } = await loadProject(dir);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(project.connections.size).toBe(0);
    expect(project.datasources.size).toBe(0);
    const relative = path.relative(process.cwd(), dir);
    expect((await loadProject(relative)).project.dir).toBe(path.resolve(dir));
  });

  it('reads CRLF files with a byte order mark', async () => {
    await write(EXAMPLE_CONNECTION_FILE, '\uFEFF' + EXAMPLE_CONNECTION.replace(/\n/g, '\r\n'));
    await write(EXAMPLE_DATASOURCE_FILE, '\uFEFF' + EXAMPLE_DATASOURCE.replace(/\n/g, '\r\n'));
    const { project, errors } = await loadProject(dir);
    expect(errors).toEqual([]);
    expect(project.datasources.get('events')?.schema).toHaveLength(4);
    expect(project.connections.get('my_s3')?.region).toBe('us-east-1');
  });

  it('reports every error of every file in one run, in file and line order', async () => {
    await write(EXAMPLE_CONNECTION_FILE, EXAMPLE_CONNECTION);
    await write('connections/broken.connection', 'TYPE gcs\nS3_ENDPOINT nope\n');
    await write(EXAMPLE_DATASOURCE_FILE, EXAMPLE_DATASOURCE.replace('IMPORT_SCHEDULE @auto', 'IMPORT_SCHEDULE @hourly'));
    await write(
      'datasources/orders.datasource',
      ['SCHEMA >', '    `id` UInt64,', '    `id` String', '', 'IMPORT_CONNECTION_NAME missing_conn', 'IMPORT_BUCKET_URI s3://orders/*.csv', 'IMPORT_FORMAT tsv'].join(
        '\n',
      ),
    );
    await write('datasources/users.datasource', 'ENGINE Log\nIMPORT_CONNECTION_NAME broken\nIMPORT_BUCKET_URI s3://users/x.csv\n');
    const { project, errors } = await loadProject(dir);
    expect(errors.map(formatProblem)).toEqual([
      'connections/broken.connection:1: TYPE must be s3, not "gcs": only S3 and S3-compatible buckets are supported',
      'connections/broken.connection:2: S3_ENDPOINT "nope" is not an http(s) URL: write it like http://127.0.0.1:9000 or https://s3.example.com',
      'datasources/events.datasource:16: IMPORT_SCHEDULE "@hourly" is not supported: use @auto (every minute) or @on-demand',
      'datasources/orders.datasource:3: column "id" is defined twice (first on line 2): rename or remove one',
      'datasources/orders.datasource:5: IMPORT_CONNECTION_NAME "missing_conn" names no connection: use one of broken, my_s3, or add connections/missing_conn.connection',
      "datasources/orders.datasource:7: IMPORT_FORMAT \"tsv\" is not supported: use csv, ndjson or parquet, or remove IMPORT_FORMAT to read the format from each key's extension",
      'datasources/users.datasource:1: ENGINE "Log" is not supported: use one of MergeTree, ReplacingMergeTree, SummingMergeTree, AggregatingMergeTree, CollapsingMergeTree, VersionedCollapsingMergeTree, or their Replicated variants',
    ]);
    // Only files without problems are in the project.
    expect([...project.connections.keys()]).toEqual(['my_s3']);
    expect([...project.datasources.keys()]).toEqual([]);
  });

  it('reports a connection name that names no connection, with a hint for a case mistake', async () => {
    await write('datasources/a.datasource', 'IMPORT_CONNECTION_NAME nothing\nIMPORT_BUCKET_URI s3://bkt/x\n');
    expect((await loadProject(dir)).errors.map(formatProblem)).toEqual([
      'datasources/a.datasource:1: IMPORT_CONNECTION_NAME "nothing" names no connection: there are no connections; add connections/nothing.connection',
    ]);
    await write('connections/My_S3.connection', 'TYPE s3\n');
    await write('datasources/a.datasource', '\n\nIMPORT_CONNECTION_NAME my_s3\nIMPORT_BUCKET_URI s3://bkt/x\n');
    expect((await loadProject(dir)).errors.map(formatProblem)).toEqual([
      'datasources/a.datasource:3: IMPORT_CONNECTION_NAME "my_s3" names no connection (did you mean My_S3?): use one of My_S3, or add connections/my_s3.connection',
    ]);
  });

  it('reports file names that cannot be names, and reserved names', async () => {
    await write('connections/my-s3.connection', 'TYPE s3\n');
    await write('connections/_bp_internal.connection', 'TYPE s3\n');
    await write('datasources/2024_events.datasource', '');
    await write('datasources/events_quarantine.datasource', '');
    await write('datasources/_bucketpipe_state.datasource', '');
    await write('datasources/_BPx.datasource', '');
    await write('datasources/ok.datasource', '');
    const { project, errors } = await loadProject(dir);
    expect(errors.map(formatProblem)).toEqual([
      'connections/_bp_internal.connection:1: the connection name "_bp_internal" starts with a prefix reserved for bucketpipe (_bp, _bucketpipe): rename the file',
      'connections/my-s3.connection:1: the connection name "my-s3" (the file name) is not usable: rename the file to letters, digits and underscores, not starting with a digit',
      'datasources/2024_events.datasource:1: the datasource name "2024_events" (the file name) is not usable: rename the file to letters, digits and underscores, not starting with a digit',
      'datasources/_BPx.datasource:1: the datasource name "_BPx" starts with a prefix reserved for bucketpipe (_bp, _bucketpipe): rename the file',
      'datasources/_bucketpipe_state.datasource:1: the datasource name "_bucketpipe_state" starts with a prefix reserved for bucketpipe (_bp, _bucketpipe): rename the file',
      'datasources/events_quarantine.datasource:1: the datasource name "events_quarantine" ends with _quarantine, which is reserved for quarantine tables: rename the file',
    ]);
    expect([...project.datasources.keys()]).toContain('ok');
    expect(project.datasources.has('2024_events')).toBe(false);
  });

  it('reports two names that differ only by case', async () => {
    await write('datasources/Events.datasource', '');
    await write('datasources/events.datasource', '');
    // A case-insensitive file system keeps one file: there is nothing to report then.
    if ((await readdir(path.join(dir, 'datasources'))).length < 2) return;
    const { errors } = await loadProject(dir);
    expect(errors.map(formatProblem)).toEqual([
      'datasources/events.datasource:1: the datasource name "events" differs from "Events" only by case: rename one of the two files',
    ]);
  });

  it('collects warnings of all files, without secrets, and flags misplaced files', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    await write('connections/a.connection', `TYPE s3\nS3_ACCESS_KEY AKIAIOSFODNN7EXAMPLE\nS3_SECRET ${secret}\n`);
    await write('connections/b.datasource', '');
    await write('datasources/x.datasource', 'IMPORT_CONNECTION_NAME a\nIMPORT_BUCKET_URI s3://bkt/x\nIMPORT_SCHEDULE @on-demand\nIMPORT_MAX_FILES_PER_RUN 3\n');
    const { errors, warnings } = await loadProject(dir);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => `${w.location.file}:${w.location.line}`)).toEqual([
      'connections/a.connection:2',
      'connections/a.connection:3',
      'connections/b.datasource:1',
      'datasources/x.datasource:4',
    ]);
    expect(warnings[2]?.message).toBe('this file is ignored: .datasource files belong in datasources/');
    expect(JSON.stringify(warnings)).not.toContain(secret);
    expect(JSON.stringify(warnings)).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});

describe('formatProblem', () => {
  it('writes file:line: message', () => {
    expect(formatProblem({ location: { file: 'datasources/x.datasource', line: 12 }, message: 'fix this' })).toBe(
      'datasources/x.datasource:12: fix this',
    );
  });
});
