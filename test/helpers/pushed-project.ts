import { beforeAll } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import type { Store } from '../../src/store/create-store.js';
import { s3Client } from './bucket.js';
import { openTestApp, s3Endpoint, withBucketAndProject } from './embedded.js';
import { importDatasource, type TestProjectDir } from './project.js';

/** A project pushed to the file's store, with the bucket its datasources import from. */
export interface PushedProject {
  bucket: string;
  app: App;
  store: Store;
}

/**
 * A fresh bucket and project for a describe block, pushed before its tests, for tests that write
 * rows into a datasource's tables as a stage of the import would. Each datasource of `schemas`
 * (name → its SCHEMA lines) imports the CSV objects under `s3://<bucket>/<name>/`. The project is
 * removed and the app closed after the block; `assign` hands the pushed project to its variables.
 */
export function withPushedProject(schemas: Record<string, string>, assign: (pushed: PushedProject) => void): void {
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3Client(s3Endpoint()), (b, p) => ((bucket = b), (project = p)));
  beforeAll(async () => {
    for (const [name, schema] of Object.entries(schemas)) project.writeDatasource(name, importDatasource(`s3://${bucket}/${name}/*.csv`, { schema }));
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    assign({ bucket, app, store: await app.store() });
  });
}
