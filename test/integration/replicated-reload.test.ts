import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { runStatement, selectRows } from '../../src/store/queries.js';
import { dataTableSql } from '../../src/store/table-ddl.js';
import { importHere } from '../../src/worker/run-here.js';
import { startLocalClickHouse, type LocalClickHouse } from '../../scripts/local-clickhouse.js';
import { startLocalZooKeeper, type LocalZooKeeper } from '../../scripts/local-zookeeper.js';
import { createBucket, putObjects, s3Client } from '../helpers/bucket.js';
import { freshServerDatabase } from '../helpers/embedded.js';
import { createProjectDir, importDatasource, type TestProjectDir } from '../helpers/project.js';
import { S3_KEY, S3_SECRET } from '../helpers/s3-server.js';
import { srcCsv, SRC_N_SCHEMA, until } from '../helpers/scheduler-project.js';

/**
 * A replicated table drops an inserted block identical to one it took before. An object undone after
 * a crash and loaded again must land whole all the same (ClickHouse 18.16 replica with ZooKeeper).
 */
describe('a replicated table takes an object loaded again after an undo', () => {
  let zookeeper: LocalZooKeeper;
  let replica: LocalClickHouse;
  let project: TestProjectDir;
  let app: App;
  const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-replicated-'));

  beforeAll(async () => {
    zookeeper = await startLocalZooKeeper();
    replica = await startLocalClickHouse({ replication: { zookeeperPort: zookeeper.port, shard: '01', replica: 'r1' } });
  });
  afterAll(async () => {
    await app?.close();
    await replica?.stop();
    await zookeeper?.stop();
    project?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every row once after the interrupted load is undone and loaded again', async () => {
    const s3 = s3Client(inject('s3Endpoint'));
    const bucket = await createBucket(s3);
    await putObjects(s3, bucket, { 'rep/r.csv': srcCsv('r', 1000) });
    project = createProjectDir(inject('s3Endpoint'));
    project.writeDatasource('replicated', importDatasource(`s3://${bucket}/rep/*.csv`, { schema: SRC_N_SCHEMA }));
    const url = await freshServerDatabase(replica.url);
    const database = new URL(url).pathname.slice(1);
    const env = { ...process.env, S3_ACCESS_KEY: S3_KEY, S3_SECRET, BUCKETPIPE_DATA_DIR: dataDir, BUCKETPIPE_CLICKHOUSE_URL: url, REDIS_URL: inject('redisUrl') };
    app = await openApp({ projectDir: project.dir, env });
    const client = (await app.store()).client;
    // The data table as a user would make it replicated; push keeps a table that has the declared columns.
    const engine = { engine: 'ReplicatedMergeTree', engineArgs: [`'/clickhouse/tables/{shard}/${database}/replicated'`, "'{replica}'"], location: { file: 'x', line: 1 } };
    await runStatement(client, dataTableSql('replicated', [{ name: 'src', type: 'String' }, { name: 'n', type: 'UInt32' }], engine));
    await pushProject(app, { dryRun: false });

    const first = await importHere(app, 'replicated', { trigger: 'on-demand' });
    expect(first.rows).toBe(1000);
    // As a crash would leave it: the attempt `loading` again with its rows in (its newest write).
    await runStatement(
      client,
      `INSERT INTO _bucketpipe_ledger SELECT datasource, key, etag, bucket, size, last_modified, import_id, job_id, 'loading', rows, quarantined, error, updated_at, version + 1
       FROM _bucketpipe_ledger WHERE datasource = 'replicated'`,
    );
    const again = await importHere(app, 'replicated', { trigger: 'on-demand' });
    expect(again.recovered).toBe(1);
    expect(again.rows).toBe(1000);
    // The undo is an asynchronous mutation on this server version.
    await until(() => selectRows<{ n: string }>(client, 'SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND is_done = 0'), (r) => Number(r[0]?.n) === 0);
    const [count] = await selectRows<{ rows: string; distinct: string }>(client, 'SELECT count() AS rows, uniqExact(src, n) AS distinct FROM replicated');
    expect({ rows: Number(count!.rows), distinct: Number(count!.distinct) }).toEqual({ rows: 1000, distinct: 1000 });
    const [ledger] = await selectRows<{ status: string; rows: string }>(client, "SELECT status, rows FROM _bucketpipe_objects WHERE datasource = 'replicated'");
    expect({ status: ledger!.status, rows: Number(ledger!.rows) }).toEqual({ status: 'done', rows: 1000 });
  });
});
