import type { BucketAccess } from '../bucket/s3-client.js';
import type { Logger } from '../log.js';
import type { DatasourceSpec, ExportSpec } from '../project/types.js';
import type { Store } from '../store/create-store.js';

/** Everything one datasource's export needs, built once per run. */
export interface ExportContext {
  store: Store;
  datasource: DatasourceSpec & { export: ExportSpec };
  access: BucketAccess;
  log: Logger;
}
