import type { App } from '../src/app.js';
import { exportHere, importHere } from '../src/worker/run-here.js';
import { BUCKET } from './dataset.js';
import { check, timed } from './measurement.js';

/** The EXPORT_* lines of a benchmark datasource: every row, into `exports/<folder>/`, one run's files under its sync id. */
export function exportDirectives(folder: string, format: 'csv.gz' | 'parquet', maxRowsPerFile?: number): string[] {
  return [
    'EXPORT_CONNECTION_NAME bench',
    `EXPORT_BUCKET_URI s3://${BUCKET}/exports/${folder}/`,
    `EXPORT_FILE_TEMPLATE {{TABLE}}/{{SYNC_ID}}-{{PART}}.{{FORMAT}}`,
    `EXPORT_FORMAT ${format === 'parquet' ? 'parquet' : 'csv'}`,
    ...(format === 'csv.gz' ? ['EXPORT_COMPRESSION gzip'] : []),
    ...(maxRowsPerFile ? [`EXPORT_MAX_ROWS_PER_FILE ${maxRowsPerFile}`] : []),
    'EXPORT_STRATEGY full',
    'EXPORT_TEST_WRITE false',
  ];
}

/** One `datasource sync` as a user runs it, timed; every row must land, none in quarantine. */
export async function timedImport(app: App, datasource: string): Promise<{ seconds: number; rows: number }> {
  let rows = 0;
  const seconds = await timed(async () => {
    const report = await importHere(app, datasource, { trigger: 'on-demand' });
    check(report.status === 'ok', `sync ended ${report.status}: ${report.error?.message ?? ''}`);
    check(report.quarantined === 0, `${report.quarantined} rows quarantined`);
    rows = report.rows;
  });
  return { seconds, rows };
}

/** One `export` as a user runs it, timed; it must write `rows` rows. Returns the files' URIs. */
export async function timedExport(app: App, datasource: string, rows: number): Promise<{ seconds: number; files: string[] }> {
  let files: string[] = [];
  const seconds = await timed(async () => {
    const report = await exportHere(app, datasource, { trigger: 'on-demand' });
    check(report.status === 'ok', `export ended ${report.status}: ${report.error?.message ?? ''}`);
    check(report.rows === rows, `export wrote ${report.rows} rows, not ${rows}`);
    files = report.files.map((f) => f.uri);
  });
  return { seconds, files };
}
