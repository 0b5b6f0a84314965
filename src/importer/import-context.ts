import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { ObjectRef } from '../bucket/list-objects.js';
import type { BucketAccess } from '../bucket/s3-client.js';
import { engineObjectLocation } from '../bucket/engine-url.js';
import { explainS3Error } from '../bucket/s3-errors.js';
import type { DatasourceSpec, ImportSpec } from '../project/types.js';
import type { Store } from '../store/create-store.js';
import type { Logger } from '../log.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Compression } from '../formats.js';
import type { ObjectSource } from './engine-source.js';
import type { TestFault } from './test-fault.js';
import type { LoadTarget } from './load-target.js';

/** Everything one datasource's import needs, built once per run. */
export interface ImportContext {
  store: Store;
  datasource: DatasourceSpec & { import: ImportSpec };
  access: BucketAccess;
  /** Credentials handed to the engine's s3() reads; absent = anonymous. */
  credentials?: AwsCredentialIdentity;
  /** Stage-by-stage progress at debug level (`stage` records). */
  log: Logger;
  /**
   * The engine that reads and splits objects: the store itself when embedded; with a ClickHouse server
   * as the store, the worker's own engine, which stages the rows and streams them to the server.
   */
  engine: ClickHouseClient;
  /** Where loads write: into the store itself, or staged in the worker's engine and shipped (decided once, by the store's kind). */
  target: LoadTarget;
  /** At most this many small objects are loaded by one statement; default 100. */
  batchObjects?: number;
  /** Aborted when the run must stop writing at once (its lease is lost): long statements stop waiting. */
  signal?: AbortSignal;
  /** Tests only: a fault that breaks a load path on purpose (see test-fault.ts). */
  testFault?: TestFault;
}

/** Resolves the connection's credentials once, through the same chain the S3 client uses. */
export async function resolveEngineCredentials(access: BucketAccess, bucket: string): Promise<AwsCredentialIdentity> {
  try {
    return await access.credentials();
  } catch (error) {
    throw explainS3Error(Object.assign(error as object, { name: 'CredentialsProviderError' }), {
      bucket,
      connection: access.connection.name,
    });
  }
}

export function objectSource(ctx: ImportContext, object: ObjectRef, compression: Compression): ObjectSource {
  return {
    ...engineObjectLocation(ctx.access.connection, object.bucket, object.key),
    etag: object.etag,
    credentials: ctx.credentials,
    compression,
  };
}
