import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { runCli } from '../helpers/cli.js';
import { createProjectDir, importDatasource } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';

describe('time zones', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('reads times without a zone as UTC and keeps instants exact, whatever the machine time zone', async () => {
    const endpoint = inject('s3Endpoint');
    const s3 = s3Client(endpoint);
    const bucket = await createBucket(s3);
    await putObjects(s3, bucket, { 'tz/a.csv': 'id,at,at_paris,day\n1,2024-01-01 10:00:00,2024-01-01 10:00:00,2024-06-30\n2,2024-01-01T10:00:00Z,2024-01-01T10:00:00+02:00,2024-07-01\n' });
    const project = createProjectDir(endpoint);
    const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-tz-'));
    cleanups.push(() => project.remove(), () => rmSync(dataDir, { recursive: true, force: true }));
    project.writeDatasource(
      'times',
      importDatasource(`s3://${bucket}/tz/*.csv`, { schema: "    `id` UInt8,\n    `at` DateTime64(3),\n    `at_paris` DateTime('Europe/Paris'),\n    `day` Date" }),
    );
    const env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir, REDIS_URL: inject('redisUrl'), TZ: 'America/Los_Angeles' };
    expect((await runCli(['push'], { cwd: project.dir, env })).code).toBe(0);
    const sync = await runCli(['datasource', 'sync', 'times', '--wait'], { cwd: project.dir, env });
    expect(sync.code, sync.stderr).toBe(0);
    const rows = await runCli(
      ['sql', 'SELECT id, toUnixTimestamp(at) AS at, toUnixTimestamp(at_paris) AS at_paris, toString(day) AS day FROM times ORDER BY id', '--format', 'JSONEachRow'],
      { cwd: project.dir, env },
    );
    const utc10 = Date.UTC(2024, 0, 1, 10) / 1000;
    expect(rows.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 1, at: utc10, at_paris: utc10 - 3600, day: '2024-06-30' },
      { id: 2, at: utc10, at_paris: utc10 - 7200, day: '2024-07-01' },
    ]);
  });
});
