import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

/** Every folder and file under `dir` with its permission bits, links left out (their bits are not theirs). */
function modes(dir: string): Array<{ path: string; kind: 'dir' | 'file'; mode: string }> {
  const found: Array<{ path: string; kind: 'dir' | 'file'; mode: string }> = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) continue;
      found.push({ path, kind: stat.isDirectory() ? 'dir' : 'file', mode: (stat.mode & 0o777).toString(8) });
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return found;
}

/** The entries whose permissions let anyone but the user in. */
const open = (dir: string) => modes(dir).filter((m) => m.mode !== (m.kind === 'dir' ? '700' : '600'));

/** Makes a tree readable by everyone, as stores made before were. */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const m of modes(dir)) chmodSync(m.path, m.kind === 'dir' ? 0o755 : 0o644);
}

/** The embedded store holds the imported values: its data directory and every file in it are the user's alone. */
describe("the embedded store's files", () => {
  const endpoint = inject('s3Endpoint');
  const s3 = s3Client(endpoint);
  let bucket: string;
  let project: TestProjectDir;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => runCli(args, { cwd: project.dir, env });

  beforeAll(async () => {
    // What a user's shell usually has, and what the CLI processes below inherit: 755 folders, 644 files.
    process.umask(0o022);
    bucket = await createBucket(s3);
    await putObjects(s3, bucket, { 'people/a.csv': 'id,name\n1,ada\n2,grace\n' });
    project = createProjectDir(endpoint);
    project.writeDatasource('people', importDatasource(`s3://${bucket}/people/*.csv`));
    home = mkdtempSync(join(tmpdir(), 'bucketpipe-files-'));
    env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: join(home, 'store', 'data'), REDIS_URL: inject('redisUrl') };
  });
  afterAll(() => {
    project?.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it('are 0700 folders and 0600 files from the start, the engine\'s own parts and the rejected-row scratch folder included', async () => {
    for (const args of [['push'], ['datasource', 'sync', 'people', '--wait']]) {
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(0);
    }
    const rows = await cli(['sql', 'SELECT id, name FROM people ORDER BY id', '--format', 'CSV']);
    expect(rows.stdout).toBe('1,"ada"\n2,"grace"\n');
    const store = join(home, 'store');
    expect(modes(store).filter((m) => [join(store, 'data'), join(store, 'scratch')].includes(m.path)).map((m) => [m.path.slice(store.length), m.mode]).sort()).toEqual([
      ['/data', '700'],
      ['/scratch', '700'],
    ]);
    // The engine's parts: the table's rows are in files under data/store/…
    expect(modes(join(store, 'data')).filter((m) => m.kind === 'file').length).toBeGreaterThan(20);
    expect(open(store)).toEqual([]);
  });

  it('a store an earlier version left readable by others is made the user\'s alone when it is opened, and so is what the engine writes next', async () => {
    const store = join(home, 'store');
    openUp(store);
    expect(open(store).length).toBeGreaterThan(20);
    await putObjects(s3, bucket, { 'people/b.csv': 'id,name\n3,katherine\n' });
    const run = await cli(['datasource', 'sync', 'people', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect((await cli(['sql', 'SELECT count() FROM people', '--format', 'CSV'])).stdout).toBe('3\n');
    expect(open(store)).toEqual([]);
  });
});
