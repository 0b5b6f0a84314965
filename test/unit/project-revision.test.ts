import { describe, expect, it } from 'vitest';
import { parseConnection } from '../../src/project/parse-connection.js';
import { parseDatasource } from '../../src/project/parse-datasource.js';
import { projectRevision, restoreProject } from '../../src/project/revision.js';
import type { Project } from '../../src/project/types.js';

const DATASOURCE = [
  'SCHEMA >',
  '    `id` UInt64,',
  '    `ts` DateTime',
  '',
  'IMPORT_CONNECTION_NAME my_s3',
  'IMPORT_BUCKET_URI s3://in-bucket/events/**/*.csv',
  'IMPORT_FORMAT csv',
  'EXPORT_CONNECTION_NAME my_s3',
  'EXPORT_BUCKET_URI s3://out-bucket/exports/events',
  'EXPORT_FORMAT csv',
  'EXPORT_COMPRESSION gzip',
  '',
].join('\n');
const CONNECTION = 'TYPE s3\nS3_REGION eu-west-1\nS3_ACCESS_KEY {{ tb_secret("KEY") }}\nS3_SECRET {{ tb_secret("SECRET") }}\n';

function project(): Project {
  const datasource = parseDatasource(DATASOURCE, 'datasources/events.datasource', 'events');
  const connection = parseConnection(CONNECTION, 'connections/my_s3.connection', 'my_s3');
  expect(datasource.problems).toEqual([]);
  expect(connection.problems).toEqual([]);
  return { dir: '/p', connections: new Map([['my_s3', connection.spec!]]), datasources: new Map([['events', datasource.spec!]]) };
}

describe('projectRevision', () => {
  it('names an unchanged project as before the parsed bucket URIs were carried in the spec', () => {
    // Computed on main before the spec carried `import.uri` and `export.destination`: stores hold such ids.
    expect(projectRevision(project()).id).toBe('ba887d15e2b44054');
  });

  it('leaves the derived URI values out of the stored text', () => {
    const { text } = projectRevision(project());
    expect(text).not.toContain('listPrefix');
    expect(text).not.toContain('destination');
    expect(text).toContain('"bucketUri":"s3://in-bucket/events/**/*.csv"');
  });

  it('restores the parsed URIs, so a worker reads the same spec as the pusher', () => {
    const original = project();
    const restored = restoreProject(projectRevision(original), '/p', original);
    expect(restored.datasources.get('events')).toEqual(original.datasources.get('events'));
    expect(restored.datasources.get('events')?.import?.uri).toEqual({ bucket: 'in-bucket', keyPattern: 'events/**/*.csv', listPrefix: 'events/' });
    expect(restored.datasources.get('events')?.export?.destination).toEqual({ bucket: 'out-bucket', prefix: 'exports/events/' });
    expect(projectRevision(restored).id).toBe(projectRevision(original).id);
  });
});
