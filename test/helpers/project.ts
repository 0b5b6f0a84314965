import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A project folder on disk with a connection to the test S3 server. */
export interface TestProjectDir {
  dir: string;
  /** Adds or replaces `datasources/NAME.datasource`. */
  writeDatasource(name: string, text: string): void;
  writeConnection(name: string, text: string): void;
  remove(): void;
}

/** The connection file every test project has: `local`, keys from S3_ACCESS_KEY / S3_SECRET. */
export function localConnection(endpoint: string): string {
  return [
    'TYPE s3',
    'S3_REGION "us-east-1"',
    'S3_ACCESS_KEY {{ tb_secret("S3_ACCESS_KEY") }}',
    'S3_SECRET {{ tb_secret("S3_SECRET") }}',
    `S3_ENDPOINT "${endpoint}"`,
    'S3_FORCE_PATH_STYLE true',
    '',
  ].join('\n');
}

export function createProjectDir(endpoint: string): TestProjectDir {
  const dir = mkdtempSync(join(tmpdir(), 'bucketpipe-project-'));
  mkdirSync(join(dir, 'datasources'));
  mkdirSync(join(dir, 'connections'));
  const project: TestProjectDir = {
    dir,
    writeDatasource: (name, text) => writeFileSync(join(dir, 'datasources', `${name}.datasource`), text),
    writeConnection: (name, text) => writeFileSync(join(dir, 'connections', `${name}.connection`), text),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  project.writeConnection('local', localConnection(endpoint));
  return project;
}

/** A datasource file importing `uri` with the `local` connection. */
export function importDatasource(uri: string, extra: { schema?: string; schedule?: string; format?: string; more?: string } = {}): string {
  return [
    extra.schema ? `SCHEMA >\n${extra.schema}\n` : '',
    'IMPORT_SERVICE s3',
    'IMPORT_CONNECTION_NAME local',
    `IMPORT_BUCKET_URI ${uri}`,
    `IMPORT_SCHEDULE ${extra.schedule ?? '@on-demand'}`,
    'IMPORT_STRATEGY APPEND',
    extra.format ? `IMPORT_FORMAT ${extra.format}` : '',
    extra.more ?? '',
    '',
  ].filter((l) => l !== '').join('\n') + '\n';
}
