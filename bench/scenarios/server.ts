import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { pushProject } from '../../src/push/push-project.js';
import { openLocalEngine } from '../../src/store/local-engine.js';
import { runStatement, selectRows } from '../../src/store/queries.js';
import type { RowFormat } from '../../src/store/server-capabilities.js';
import { quoteString } from '../../src/store/sql.js';
import { importHere } from '../../src/worker/run-here.js';
import { exportDirectives, timedExport, timedImport } from '../bench-runs.js';
import { S3_KEY, S3_SECRET } from '../../scripts/local-s3-server.js';
import { BUCKET, COLUMNS, columnsDdl, engineFormat, largeKey } from '../dataset.js';
import { benchDatasource, benchProject, SORTING_KEY } from '../bench-project.js';
import { check, median, peakRss, timed, type Measurement } from '../measurement.js';

/**
 * A ClickHouse server as the store (the machine's clickhouse-server, started by run.ts). Its tables
 * take the benchmark's columns in types every server has: whole-second DateTime and plain String.
 */
export interface ServerImportArgs {
  endpoint: string;
  /** The server's URL; each measurement works in a database of its own. */
  serverUrl: string;
  format: 'csv' | 'parquet';
  rows: number;
  /** `BENCH_ROW_FORMAT`: rows travel in this format instead of the one the probe chose (TabSeparated = before issue 17). */
  rowFormat?: RowFormat;
  /** The server is a node of this cluster: the tables are made replicated on it (BUCKETPIPE_CLICKHOUSE_CLUSTER). */
  cluster?: string;
}

export interface ServerExportArgs {
  endpoint: string;
  serverUrl: string;
  format: 'csv.gz' | 'parquet';
  rows: number;
  reps: number;
  rowFormat?: RowFormat;
}

const SERVER_TYPES: Readonly<Record<string, string>> = { ts: 'DateTime', country: 'String' };
const serverColumns = COLUMNS.map((c) => ({ name: c.name, type: SERVER_TYPES[c.name] ?? c.type }));

function serverSchema(): string {
  return serverColumns.map((c) => `    \`${c.name}\` ${c.type} \`json:$.${c.name}\``).join(',\n');
}

/** bucketpipe end to end into the server: `datasource sync` of one large object after `push`. */
export async function importToServerWithBucketpipe(args: ServerImportArgs): Promise<Measurement> {
  const database = await freshDatabase(args.serverUrl, args.cluster);
  const project = benchProject(args.endpoint, { imp: benchDatasource(largeKey(args.format, 1), [], serverSchema()) });
  project.env.BUCKETPIPE_CLICKHOUSE_URL = database.url;
  if (args.cluster) project.env.BUCKETPIPE_CLICKHOUSE_CLUSTER = args.cluster;
  const app = await project.open();
  try {
    const store = await app.store();
    if (args.rowFormat) store.capabilities.rowFormat = args.rowFormat;
    await pushProject(app, { dryRun: false });
    // A worker opens its own engine once, not per sync; the baseline's engine is open before its timing too.
    await app.runImportContext('imp');
    const { seconds, rows } = await timedImport(app, 'imp');
    await expectServerRows(store.client, 'imp', args.rows);
    return { seconds, count: rows, maxRssBytes: peakRss() };
  } finally {
    await app.close();
    project.remove();
    await database.drop();
  }
}

/**
 * The baseline: the same object read by the engine alone and sent to the same server in one
 * statement, the engine's `SELECT … FROM s3(…)` streamed into the server's `INSERT … FORMAT Native`.
 */
export async function importToServerNatively(args: ServerImportArgs): Promise<Measurement> {
  const database = await freshDatabase(args.serverUrl);
  const server = createClient({ url: database.url });
  const engine = openLocalEngine();
  try {
    await server.command({ query: `CREATE TABLE native (${serverColumns.map((c) => `\`${c.name}\` ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY ${SORTING_KEY}` });
    const { format, compression } = engineFormat(args.format);
    const url = `${args.endpoint}/${BUCKET}/${largeKey(args.format, 1)}`;
    // The engine's streamed reads bind no parameters: the literals go through the one escaping function.
    const read =
      `SELECT ${serverColumns.map((c) => (SERVER_TYPES[c.name] ? `CAST(\`${c.name}\`, '${c.type}') AS \`${c.name}\`` : `\`${c.name}\``)).join(', ')} ` +
      `FROM s3(${[url, S3_KEY, S3_SECRET, format, columnsDdl(), compression].map(quoteString).join(', ')})`;
    const seconds = await timed(async () => {
      const sent = await server.exec({ query: 'INSERT INTO native FORMAT Native', values: engine.stream(read, 'Native') });
      sent.stream.resume();
    });
    const rows = await expectServerRows(server, 'native', args.rows);
    return { seconds, count: rows, maxRssBytes: peakRss() };
  } finally {
    await engine.close();
    await server.close();
    await database.drop();
  }
}

/**
 * Loads the large Parquet object into the server (bucketpipe), then exports the table `reps` times
 * with bucketpipe (EXPORT_STRATEGY full, one file) and with the reverse baseline, alternating: the
 * engine alone reads the server's rows as Native (`url()`) and writes the file into the bucket in one
 * statement. `seconds` is bucketpipe's median, `more.engine` the baseline's.
 */
export async function measureServerExport(args: ServerExportArgs): Promise<Measurement> {
  const database = await freshDatabase(args.serverUrl);
  const settings = exportDirectives('server', args.format);
  const project = benchProject(args.endpoint, { exp: benchDatasource(largeKey('parquet', 1), settings, serverSchema()) });
  project.env.BUCKETPIPE_CLICKHOUSE_URL = database.url;
  const app = await project.open();
  const engine = openLocalEngine();
  try {
    const store = await app.store();
    if (args.rowFormat) store.capabilities.rowFormat = args.rowFormat;
    await pushProject(app, { dryRun: false });
    const loaded = await importHere(app, 'exp', { trigger: 'on-demand' });
    check(loaded.rows === args.rows, `the table to export holds ${loaded.rows} rows, not ${args.rows}`);
    const fileFormat = args.format === 'parquet' ? { format: 'Parquet', compression: 'none' } : { format: 'CSVWithNames', compression: 'gzip' };
    const engineUrl = `${args.endpoint}/${BUCKET}/exports/server-engine/exp.${args.format}`;
    const rowsUrl = `${database.httpBase}/?database=${encodeURIComponent(database.name)}&query=${encodeURIComponent('SELECT * FROM exp FORMAT Native')}`;
    const structure = serverColumns.map((c) => `\`${c.name}\` ${c.type}`).join(', ');
    const ours: number[] = [];
    const baseline: number[] = [];
    let lastFiles: string[] = [];
    for (let rep = 0; rep < args.reps; rep++) {
      baseline.push(
        await timed(() =>
          runStatement(
            engine.client,
            "INSERT INTO FUNCTION s3({url:String}, {key:String}, {secret:String}, {format:String}, 'auto', {compression:String}) SELECT * FROM url({rows:String}, 'Native', {structure:String})",
            { url: engineUrl, key: S3_KEY, secret: S3_SECRET, ...fileFormat, rows: rowsUrl, structure },
            // Without it the engine asks the server with a HEAD first, which runs the query once more.
            { s3_truncate_on_insert: 1, output_format_parquet_compression_method: 'zstd', http_make_head_request: 0 },
          ),
        ),
      );
      const run = await timedExport(app, 'exp', args.rows);
      ours.push(run.seconds);
      lastFiles = run.files;
    }
    const count = async (url: string) =>
      Number(
        (await selectRows<{ n: string }>(engine.client, 'SELECT count() AS n FROM s3({url:String}, {key:String}, {secret:String}, {format:String})', {
          url,
          key: S3_KEY,
          secret: S3_SECRET,
          format: fileFormat.format,
        }))[0]!.n,
      );
    check((await count(engineUrl)) === args.rows, `the baseline's file does not hold ${args.rows} rows`);
    let exported = 0;
    for (const uri of lastFiles) exported += await count(`${args.endpoint}/${uri.slice('s3://'.length)}`);
    check(exported === args.rows, `bucketpipe's files hold ${exported} rows, not ${args.rows}`);
    return { seconds: median(ours), count: args.rows, maxRssBytes: peakRss(), more: { engine: median(baseline) } };
  } finally {
    await engine.close();
    await app.close();
    project.remove();
    await database.drop();
  }
}

/** A new database on the server (on every node of `cluster`), and the store URL that points at it. */
async function freshDatabase(serverUrl: string, cluster?: string): Promise<{ name: string; url: string; httpBase: string; drop(): Promise<void> }> {
  const base = new URL(serverUrl);
  const name = `bench_${Date.now().toString(36)}_${process.pid}`;
  const httpBase = `${base.protocol}//${base.host}`;
  const run = async (query: string) => {
    const response = await fetch(`${httpBase}/?query=${encodeURIComponent(query)}`, { method: 'POST' });
    if (!response.ok) throw new Error(`${query}: ${await response.text()}`);
  };
  const everywhere = cluster ? ` ON CLUSTER ${cluster}` : '';
  await run(`CREATE DATABASE ${name}${everywhere}`);
  base.pathname = `/${name}`;
  return { name, url: base.toString(), httpBase, drop: () => run(`DROP DATABASE IF EXISTS ${name}${everywhere}`) };
}

async function expectServerRows(client: ClickHouseClient, table: string, rows: number): Promise<number> {
  const [row] = await selectRows<{ n: string; ids: string }>(client, `SELECT count() AS n, uniqExact(id) AS ids FROM ${table}`);
  check(Number(row!.n) === rows && Number(row!.ids) === rows, `${table} holds ${row!.n} rows (${row!.ids} ids), not ${rows}`);
  return rows;
}
