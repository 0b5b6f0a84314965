import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY } from '../helpers/s3-server.js';
import { createStore } from '../../src/store/create-store.js';
import { hostRecordPath, readHostRecord } from '../../src/store/store-host.js';

/** s3rver checks no signature, so any secret works: this one must never be printed or stored. */
const CANARY_SECRET = 'canary-secret-7f3a9c21d4';
const CANARY_TOKEN = 'canary-token-55e0b8aa93';

describe('the bucketpipe CLI', () => {
  const endpoint = inject('s3Endpoint');
  const s3 = s3Client(endpoint);
  let bucket: string;
  let project: TestProjectDir;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const cli = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const result = await runCli(args, { cwd: project.dir, env: { ...env, ...extraEnv } });
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    bucket = await createBucket(s3);
    await putObjects(s3, bucket, {
      'sales/2024-01.csv': 'day,store,amount\n2024-01-01,001,10.5\n',
      'sales/2024-02.csv': 'day,store,amount\n2024-02-01,003,7\n2024-02-02,002,oops\n',
    }, { spaced: true });
    project = createProjectDir(endpoint);
    project.writeConnection(
      'local',
      readFileSync(join(project.dir, 'connections', 'local.connection'), 'utf8') + 'S3_SESSION_TOKEN {{ tb_secret("S3_SESSION_TOKEN") }}\n',
    );
    project.writeDatasource('sales', importDatasource(`s3://${bucket}/sales/*.csv`));
    dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-cli-'));
    env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET: CANARY_SECRET, S3_SESSION_TOKEN: CANARY_TOKEN, BUCKETPIPE_DATA_DIR: dataDir, BUCKETPIPE_LOG_LEVEL: 'debug', REDIS_URL: inject('redisUrl') };
  });
  afterAll(() => {
    project.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('push --dry-run plans without changing anything; push creates; a second push is a no-op', async () => {
    const dry = await cli(['push', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would create tables sales and sales_quarantine with 3 columns inferred from s3:\/\/.*\/sales\/2024-01\.csv/);
    const none = await cli(['sql', "SELECT count() AS n FROM system.tables WHERE name IN ('sales', 'sales_quarantine')", '--format', 'JSONEachRow']);
    expect(JSON.parse(none.stdout)).toEqual({ n: 0 });

    const push = await cli(['push']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('create tables sales and sales_quarantine');
    const again = await cli(['push']);
    expect(again.stdout).toContain('sales: no changes');
    expect(again.stdout).toContain('Everything is up to date.');
  });

  it('datasource sync imports, prints the job and exits 0; --json gives the report', async () => {
    const preview = await cli(['datasource', 'preview', 'sales']);
    expect(preview.stdout).toContain('2 new, 0 imported');
    const sync = await cli(['--json', 'datasource', 'sync', 'sales', '--wait']);
    expect(sync.code, sync.stderr).toBe(0);
    const report = JSON.parse(sync.stdout);
    expect(report).toMatchObject({ datasource: 'sales', status: 'ok', rows: 2, quarantined: 1 });
    const rows = await cli(['sql', 'SELECT day, store, amount FROM sales ORDER BY day', '--format', 'CSV']);
    expect(rows.stdout).toBe('"2024-01-01","001",10.5\n"2024-02-01","003",7\n');
    const quarantined = await cli(['sql', 'SELECT amount, c__error_column, c__row FROM sales_quarantine', '--format', 'JSONEachRow']);
    expect(JSON.parse(quarantined.stdout)).toEqual({ amount: 'oops', c__error_column: ['amount'], c__row: 2 });
    expect(quarantined.stdout).not.toContain('2024-01');
    const jobs = await cli(['jobs', 'sales']);
    expect(jobs.stdout).toContain(report.jobId);
    expect(jobs.stdout).toMatch(/import\s+on-demand\s+ok/);
    const second = await cli(['datasource', 'sync', 'sales', '--wait']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 objects, 0 rows imported');
  });

  it('reports every problem of every file with file:line and exits 2, changing nothing', async () => {
    project.writeDatasource('broken_one', 'SCHEMA >\n    `a` Int32\nIMPORT_STRATEGY REPLACE\nFOO bar\n');
    project.writeDatasource('broken_two', importDatasource(`s3://${bucket}/x/*.csv`, { schedule: '@hourly' }).replace('local', 'nowhere'));
    const push = await cli(['push']);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/datasources\/broken_one\.datasource:3: .*only APPEND/);
    expect(push.stderr).toMatch(/datasources\/broken_one\.datasource:4: .*FOO/);
    expect(push.stderr).toMatch(/datasources\/broken_two\.datasource:\d+: .*@hourly/);
    expect(push.stderr).toMatch(/datasources\/broken_two\.datasource:\d+: .*nowhere/);
    rmSync(join(project.dir, 'datasources', 'broken_one.datasource'));
    rmSync(join(project.dir, 'datasources', 'broken_two.datasource'));
  });

  it('names a missing bucket and refused credentials, and imports nothing', async () => {
    project.writeDatasource('nobucket', importDatasource('s3://no-such-bucket-here/x/*.csv', { schema: '    `a` Int32' }));
    const push = await cli(['push']);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/datasources\/nobucket\.datasource:\d+: .*no-such-bucket-here.*does not exist/);
    rmSync(join(project.dir, 'datasources', 'nobucket.datasource'));

    await putObjects(s3, bucket, { 'sales/2024-03.csv': 'day,store,amount\n2024-03-01,004,1\n' });
    // s3rver refuses only unknown access key ids (it checks no signatures).
    const refused = await cli(['datasource', 'sync', 'sales', '--wait'], { S3_ACCESS_KEY: 'UNKNOWNKEYID' });
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/credentials were refused/);
    const count = await cli(['sql', "SELECT count() AS n FROM sales WHERE day = '2024-03-01'", '--format', 'JSONEachRow']);
    expect(JSON.parse(count.stdout)).toEqual({ n: 0 });
  });

  it('generates a datasource file from a bucket URI that push accepts', async () => {
    // The CLI inherits this umask; the file it writes keeps to it, though the store's own files do not.
    process.umask(0o022);
    const gen = await cli(['datasource', 'generate', `s3://${bucket}/sales/*.csv`, '--connection', 'local', '--name', 'sales_copy']);
    expect(gen.code, gen.stderr).toBe(0);
    expect((statSync(join(project.dir, 'datasources', 'sales_copy.datasource')).mode & 0o777).toString(8)).toBe('644');
    const text = readFileSync(join(project.dir, 'datasources', 'sales_copy.datasource'), 'utf8');
    expect(text).toContain('`store` String');
    expect(text).toContain(`IMPORT_BUCKET_URI s3://${bucket}/sales/*.csv`);
    const push = await cli(['push']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('create tables sales_copy and sales_copy_quarantine (3 columns)');
    const ls = await cli(['datasource', 'ls']);
    expect(ls.stdout).toMatch(/sales_copy\s+@auto/);
  });

  it('keeps secrets out of error paths: a failing object, --json and --verbose errors, job events, status', async () => {
    // A gzip object cut short: the engine reads it with the canary credentials and fails.
    const rows = Array.from({ length: 20000 }, (_, i) => `2024-04-${String((i % 28) + 1).padStart(2, '0')},${i},1`).join('\n');
    const gz = gzipSync(Buffer.from(`day,store,amount\n${rows}\n`));
    await putObjects(s3, bucket, { 'sales/2024-04.csv': gz.subarray(0, Math.floor(gz.length / 2)) });
    const failing = await cli(['--json', '--verbose', 'datasource', 'sync', 'sales', '--wait']);
    expect(failing.code).toBe(1);
    const report = JSON.parse(failing.stdout);
    // The object the refused run left behind loads now; the cut one fails alone.
    expect(report.status).toBe('partial');
    const failed = report.objects.filter((o: { status: string }) => o.status === 'failed');
    expect(failed).toMatchObject([{ uri: `s3://${bucket}/sales/2024-04.csv` }]);
    expect(failed[0].error.message).toContain(`s3://${bucket}/sales/2024-04.csv: the object cannot be read`);
    const events = await cli(['jobs', 'sales', '--events', report.jobId]);
    expect(events.stdout).toContain('object_failed');
    await cli(['--json', 'jobs', 'sales']);
    await cli(['status']);

    for (const args of [['--json', 'datasource', 'sync', 'sales', '--wait', '--retry-failed'], ['--verbose', 'datasource', 'preview', 'sales'], ['--json', 'push']]) {
      const refused = await cli(args, { S3_ACCESS_KEY: 'UNKNOWNKEYID' });
      expect(refused.code, args.join(' ')).not.toBe(0);
      expect(refused.stdout + refused.stderr, args.join(' ')).toMatch(/credentials were refused/);
    }
  });

  it('keeps secrets out of every reply of the local API, when another process holds the store', async () => {
    // This process holds the store; a recording proxy stands between the CLI processes and its API.
    const store = await createStore({ dataDir, role: 'worker' });
    const host = readHostRecord(dataDir)!;
    const replies: string[] = [];
    const requests: string[] = [];
    const proxy = createServer((req, res) => {
      const target = new URL(host.url);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        requests.push(body.toString());
        const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            replies.push(Buffer.concat(parts).toString());
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(Buffer.concat(parts));
          });
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    writeFileSync(hostRecordPath(dataDir), JSON.stringify({ ...host, url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` }), { mode: 0o600 });
    try {
      await putObjects(s3, bucket, { 'sales/2024-05.csv': 'day,store,amount\n2024-05-01,005,5\n' });
      const sync = await cli(['--json', 'datasource', 'sync', 'sales', '--wait', '--retry-failed']);
      expect(sync.code).toBe(1);
      expect(JSON.parse(sync.stdout).objects.map((o: { uri: string; status: string }) => [o.uri.replace(`s3://${bucket}/`, ''), o.status]).sort()).toEqual([
        ['sales/2024-04.csv', 'failed'],
        ['sales/2024-05.csv', 'imported'],
      ]);
      await cli(['--json', 'datasource', 'preview', 'sales']);
      const read = await cli(['sql', "SELECT store FROM sales WHERE day = '2024-05-01'", '--format', 'TSV']);
      expect(read.stdout).toBe('005\n');
    } finally {
      writeFileSync(hostRecordPath(dataDir), JSON.stringify(host), { mode: 0o600 });
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await store.close();
    }
    // The engine reads S3 with credentials bound to the query: they travel in requests (loopback,
    // with the token), and no reply ever carries them back.
    expect(requests.some((r) => r.includes('src_secret'))).toBe(true);
    expect(replies.length).toBeGreaterThan(10);
    outputs.push(...replies);
  });

  it('never prints or stores a secret', async () => {
    const tables = ['_bucketpipe_objects', '_bucketpipe_ledger', '_bucketpipe_jobs', '_bucketpipe_events', '_bucketpipe_datasources', '_bucketpipe_revisions', '_bucketpipe_leases', 'sales_quarantine'];
    for (const table of tables) {
      const result = await cli(['sql', `SELECT * FROM ${table}`, '--format', 'TSV']);
      expect(result.code, result.stderr).toBe(0);
      outputs.push(result.stdout);
    }
    const everything = outputs.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).not.toContain(CANARY_SECRET);
    expect(everything).not.toContain(CANARY_TOKEN);
  });
});
