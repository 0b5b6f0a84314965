import type { BucketAccess } from '../bucket/s3-client.js';
import type { Logger } from '../log.js';
import type { DatasourceSpec, ExportSpec } from '../project/types.js';
import type { Store } from '../store/create-store.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { LocalEngine } from '../store/local-engine.js';

/** Everything one datasource's export needs, built once per run. */
export interface ExportContext {
  store: Store;
  datasource: DatasourceSpec & { export: ExportSpec };
  access: BucketAccess;
  log: Logger;
  /** The engine that encodes the files: the store itself when embedded, else the worker's own engine. */
  engine: ClickHouseClient;
  /** Set when the store is a server: its rows are first streamed into the worker's engine. */
  staging?: LocalEngine;
}
