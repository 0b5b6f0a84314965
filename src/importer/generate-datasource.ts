import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { objectUri } from '../bucket/bucket-uri.js';
import { parseBucketUri } from '../project/bucket-uri.js';
import { DEFAULT_MAX_FILES_PER_RUN } from '../project/import-settings.js';
import { BucketpipeError } from '../errors.js';
import type { DatasourceSpec } from '../project/types.js';
import { giveUserPermissions } from '../store/private-files.js';
import { discoverObjects } from './discover/discover.js';
import { referenceObject } from './discover/reference-object.js';
import type { ImportContext } from './import-context.js';
import { inferObjectColumns } from './schema/inferred-columns.js';
import { renderDatasourceFile, suggestDatasourceName } from './render-datasource.js';

/** The project a file is generated into: its folder, and the reads of a datasource that is not one of its files yet. */
export interface GenerateTarget {
  projectDir: string;
  importContextFor(spec: DatasourceSpec): Promise<ImportContext>;
}

/** What `datasource generate` is asked for. */
export interface GenerateRequest {
  /** `s3://bucket/prefix/*.csv`: the objects the datasource imports. */
  bucketUri: string;
  /** The connection that reads the bucket. */
  connection: string;
  /** The datasource name; default: from the URI (see suggestDatasourceName). */
  name?: string;
  /** `@on-demand`, or anything else for `@auto`. */
  schedule: string;
  /** Overwrite an existing file of that name. */
  force?: boolean;
}

/** The file written, and the object its schema was inferred from. */
export interface GeneratedDatasource {
  /** Relative to the project folder: `datasources/<name>.datasource`. */
  file: string;
  reference: string;
  columns: Array<{ name: string; type: string }>;
}

/**
 * Writes a `.datasource` file whose SCHEMA is inferred from the oldest object that matches the URI.
 * An existing file is kept unless `force`, so a second run never loses hand edits by surprise.
 */
export async function generateDatasource(target: GenerateTarget, request: GenerateRequest): Promise<GeneratedDatasource> {
  const { bucketUri } = request;
  const uri = parseBucketUri(bucketUri);
  const name = request.name ?? suggestDatasourceName(uri);
  const file = join(target.projectDir, 'datasources', `${name}.datasource`);
  if (existsSync(file) && !request.force) {
    throw new BucketpipeError('PROJECT_INVALID', `datasources/${name}.datasource exists; use --force to overwrite it or --name to choose another name.`);
  }
  const spec: DatasourceSpec = {
    name,
    location: { file: `datasources/${name}.datasource`, line: 1 },
    engine: { engine: 'MergeTree', engineArgs: [], location: { file: `datasources/${name}.datasource`, line: 1 } },
    import: {
      service: 's3', connectionName: request.connection, bucketUri, uri, schedule: request.schedule === '@on-demand' ? '@on-demand' : '@auto',
      strategy: 'APPEND', maxFilesPerRun: DEFAULT_MAX_FILES_PER_RUN, location: { file: `datasources/${name}.datasource`, line: 1 },
    },
  };
  const ctx = await target.importContextFor(spec);
  const discovery = await discoverObjects(ctx.access, uri, new Map());
  const reference = referenceObject(discovery.toImport);
  if (!reference) throw new BucketpipeError('SCHEMA_INFERENCE_FAILED', `No object matches ${bucketUri}; upload one first or write the SCHEMA by hand.`);
  const { layout, columns } = await inferObjectColumns(ctx, reference);
  const text = renderDatasourceFile({ spec, columns, format: layout.format, reference: objectUri(reference.bucket, reference.key) });
  mkdirSync(join(target.projectDir, 'datasources'), { recursive: true });
  writeFileSync(file, text);
  giveUserPermissions(file);
  return { file: `datasources/${name}.datasource`, reference: objectUri(reference.bucket, reference.key), columns };
}
