import type { BucketUri } from '../project/bucket-uri.js';
import type { DatasourceSpec, ImportFormat } from '../project/types.js';
import { defaultJsonPath } from './probe/json-path.js';

/** A datasource name from the URI's last literal folder or file stem: `s3://b/events/2024/*.csv` → `events_2024`. */
export function suggestDatasourceName(uri: BucketUri): string {
  const literal = uri.listPrefix.replace(/\/+$/, '') || uri.bucket;
  const segments = literal.split('/').filter(Boolean);
  const last = (segments.slice(-2).join('_') || uri.bucket).replace(/\.[^.]*$/, '');
  const name = last.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([0-9])/, '_$1').replace(/_+/g, '_');
  return name || 'imported';
}

function columnName(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '``') + '`';
}

export function renderDatasourceFile(input: {
  spec: DatasourceSpec;
  columns: Array<{ name: string; type: string }>;
  format: ImportFormat;
  reference: string;
}): string {
  const { spec, columns, format, reference } = input;
  const schema = columns.map((c, i) => {
    const path = format === 'ndjson' ? ` \`json:${defaultJsonPath(c.name)}\`` : '';
    return `    ${columnName(c.name)} ${c.type}${path}${i < columns.length - 1 ? ',' : ''}`;
  });
  const imp = spec.import!;
  return [
    'DESCRIPTION >',
    `    Imported from ${imp.bucketUri}; schema inferred from ${reference}`,
    '',
    'SCHEMA >',
    ...schema,
    '',
    'ENGINE "MergeTree"',
    'ENGINE_SORTING_KEY "tuple()"',
    '',
    'IMPORT_SERVICE s3',
    `IMPORT_CONNECTION_NAME ${imp.connectionName}`,
    `IMPORT_BUCKET_URI ${imp.bucketUri}`,
    `IMPORT_SCHEDULE ${imp.schedule}`,
    'IMPORT_STRATEGY APPEND',
    '',
  ].join('\n');
}
