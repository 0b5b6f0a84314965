import { importHere } from '../../src/worker/run-here.js';
import { exportDirectives, timedExport } from '../bench-runs.js';
import { runStatement, selectRows } from '../../src/store/queries.js';
import { S3_KEY, S3_SECRET } from '../../scripts/local-s3-server.js';
import { BUCKET, largeKey } from '../dataset.js';
import { benchDatasource, benchProject } from '../bench-project.js';
import { check, median, peakRss, timed, type Measurement } from '../measurement.js';

export type ExportFormat = 'csv.gz' | 'parquet';

export interface ExportArgs {
  endpoint: string;
  format: ExportFormat;
  rows: number;
  /** Rows per file; undefined = one file per run. */
  maxRowsPerFile?: number;
  reps: number;
}

/**
 * Loads the large Parquet object once, then exports the table `reps` times with bucketpipe
 * (EXPORT_STRATEGY full) and with the engine's own `INSERT INTO FUNCTION s3(…)`, alternating.
 * `seconds` is bucketpipe's median, `more.engine` the engine's.
 */
export async function measureExport(args: ExportArgs): Promise<Measurement> {
  const settings = exportDirectives('bucketpipe', args.format, args.maxRowsPerFile);
  const project = benchProject(args.endpoint, { exp: benchDatasource(largeKey('parquet', 1), settings) });
  const app = await project.open();
  try {
    const store = await app.store();
    const loaded = await importHere(app, 'exp', { trigger: 'on-demand' });
    check(loaded.rows === args.rows, `the table to export holds ${loaded.rows} rows, not ${args.rows}`);
    const ours: number[] = [];
    let lastFiles: string[] = [];
    const engine: number[] = [];
    const engineUrl = `${args.endpoint}/${BUCKET}/exports/engine/exp.${args.format}`;
    const engineFormat = args.format === 'parquet' ? { format: 'Parquet', compression: 'none' } : { format: 'CSVWithNames', compression: 'gzip' };
    for (let rep = 0; rep < args.reps; rep++) {
      engine.push(
        await timed(() =>
          runStatement(
            store.client,
            'INSERT INTO FUNCTION s3({url:String}, {key:String}, {secret:String}, {format:String}, \'auto\', {compression:String}) SELECT * FROM exp',
            { url: engineUrl, key: S3_KEY, secret: S3_SECRET, ...engineFormat },
            { s3_truncate_on_insert: 1, output_format_parquet_compression_method: 'zstd' },
          ),
        ),
      );
      const run = await timedExport(app, 'exp', args.rows);
      ours.push(run.seconds);
      lastFiles = run.files;
    }
    const [written] = await selectRows<{ n: string }>(
      store.client,
      'SELECT count() AS n FROM s3({url:String}, {key:String}, {secret:String}, {format:String})',
      { url: engineUrl, key: S3_KEY, secret: S3_SECRET, format: engineFormat.format },
    );
    check(Number(written!.n) === args.rows, `the engine's file holds ${written!.n} rows, not ${args.rows}`);
    let exported = 0;
    for (const uri of lastFiles) {
      const [file] = await selectRows<{ n: string }>(
        store.client,
        'SELECT count() AS n FROM s3({url:String}, {key:String}, {secret:String}, {format:String})',
        { url: `${args.endpoint}/${uri.slice('s3://'.length)}`, key: S3_KEY, secret: S3_SECRET, format: engineFormat.format },
      );
      exported += Number(file!.n);
    }
    check(exported === args.rows, `bucketpipe's files hold ${exported} rows, not ${args.rows}`);
    return { seconds: median(ours), count: args.rows, maxRssBytes: peakRss(), more: { engine: median(engine) } };
  } finally {
    await app.close();
    project.remove();
  }
}
