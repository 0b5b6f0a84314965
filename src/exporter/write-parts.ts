import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, type ObjectCannedACL, type ServerSideEncryption } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { engineObjectUrl, engineWritesLiterally } from '../bucket/engine-url.js';
import { explainS3Error } from '../bucket/s3-errors.js';
import { objectUri } from '../bucket/bucket-uri.js';
import { BucketpipeError } from '../errors.js';
import { uploadFile } from '../bucket/write-objects.js';
import { runStatement, selectRows, type QuerySettings } from '../store/queries.js';
import { quoteIdentifier } from '../store/sql.js';
import { redact } from '../importer/engine-source.js';
import type { ExportContext } from './export-context.js';
import type { EncodedFormat } from '../formats.js';
import type { PlannedFile } from './export-ledger.js';
import { countSelected, type ExportSelect } from './export-query.js';
import type { ServerRows } from '../store/server-rows.js';
import { insertFromServer, type EngineServerRead } from '../store/engine-reads-server.js';
import type { LocalEngine } from '../store/local-engine.js';
import { nativeRowCounter } from '../store/native-rows.js';

/** One file of a run: its rows as a query, and where it goes. */
export interface Part {
  part: number;
  rows: number;
  sql: string;
  settings: QuerySettings;
  /** Rows that stream from a server into the query, which reads them as `PIPE_READ`. */
  feed?: ServerRows;
  /** The same rows read by the engine from the server itself; tried first. */
  direct?: CheckedServerRead;
}

/** The engine's own read of a run's rows from the server, and whether the rows are still those counted. */
export interface CheckedServerRead extends EngineServerRead {
  unchanged(): Promise<boolean>;
}

/**
 * A run's rows as they stream from a server (`PIPE_READ` in `sql`), and how many the server counted
 * before: one file of them is written while they come, without a local copy first.
 */
export interface StreamedSelect extends ExportSelect {
  feed: ServerRows;
  total: number;
  direct?: CheckedServerRead;
}

/**
 * The parts of a run. One file unless EXPORT_MAX_ROWS_PER_FILE is set; then the rows are first
 * numbered into a table of the encoding engine (its row numbering is only reliable in a SELECT, not
 * in a partitioned write) and each part is a range of it. `release` drops that table.
 */
export async function planParts(
  ctx: ExportContext,
  numberedTable: string,
  select: ExportSelect | StreamedSelect,
  maxRows: number | undefined,
  writeEmpty: boolean,
): Promise<{ parts: Part[]; release(): Promise<void> }> {
  const client = ctx.engine;
  const none = async () => undefined;
  if ('feed' in select) return { parts: [{ part: 0, rows: select.total, sql: select.sql, settings: select.settings, feed: select.feed, direct: select.direct }], release: none };
  if (!maxRows) {
    const total = await countSelected(client, select);
    if (total > 0) return { parts: [{ part: 0, rows: total, sql: select.sql, settings: select.settings }], release: none };
    return { parts: writeEmpty ? [{ part: 0, rows: 0, sql: `SELECT * FROM (${select.sql}) LIMIT 0`, settings: select.settings }] : [], release: none };
  }
  const numbered = quoteIdentifier(numberedTable);
  await runStatement(client, `DROP TABLE IF EXISTS ${numbered}`);
  await runStatement(
    client,
    `CREATE TABLE ${numbered} ENGINE = MergeTree ORDER BY ${ROW_NUMBER} AS SELECT *, rowNumberInAllBlocks() AS ${ROW_NUMBER} FROM (${select.sql})`,
    {},
    select.settings,
  );
  const release = () => runStatement(client, `DROP TABLE IF EXISTS ${numbered}`);
  const total = Number((await selectRows<{ n: string | number }>(client, `SELECT count() AS n FROM ${numbered}`))[0]?.n ?? 0);
  if (total === 0) return { parts: writeEmpty ? [{ part: 0, rows: 0, sql: `SELECT * EXCEPT ${ROW_NUMBER} FROM ${numbered}`, settings: {} }] : [], release };
  const parts: Part[] = [];
  for (let part = 0; part * maxRows < total; part++) {
    parts.push({
      part,
      rows: Math.min(maxRows, total - part * maxRows),
      sql: `SELECT * EXCEPT ${ROW_NUMBER} FROM ${numbered} WHERE ${ROW_NUMBER} >= ${part * maxRows} AND ${ROW_NUMBER} < ${(part + 1) * maxRows} ORDER BY ${ROW_NUMBER}`,
      settings: {},
    });
  }
  return { parts, release };
}

const ROW_NUMBER = '_bp_row_number';

export interface WriteSettings {
  format: EncodedFormat;
  contentType: string;
  sse?: ServerSideEncryption;
  sseKmsKeyId?: string;
  acl?: ObjectCannedACL;
  /** A local folder for encoded files, used when they go through the S3 client (SSE, ACL). */
  stagingDir: string;
}

/**
 * Writes one part to its key and returns its size. The engine writes straight to the bucket, with a
 * multipart upload that completes only when the whole file is written, so a key is complete or absent.
 * Server-side encryption and ACLs are S3 client options: with them the engine encodes to a local file,
 * which the client uploads. So does a key with `*`, `?`, `{` or `}`: the engine refuses to write to a
 * key it reads as a glob, percent-encoded or not (measured), while the client writes any key as it is.
 * Returns the file's size, and for rows that streamed from a server, how many the engine read.
 */
export async function writePart(ctx: ExportContext, part: Part, file: PlannedFile, settings: WriteSettings): Promise<{ bytes: number; rows?: number }> {
  const { format } = settings;
  if (!settings.sse && !settings.acl && engineWritesLiterally(file.key)) {
    const credentials = await ctx.access.credentials();
    const target = s3Target(engineObjectUrl(ctx.access.connection, file.bucket, file.key), credentials);
    let rows: number | undefined;
    try {
      rows = await runPart(
        ctx,
        part,
        `INSERT INTO FUNCTION ${target.sql}`,
        { ...target.params, dst_format: format.engineFormat, dst_compression: format.compression },
        { ...format.settings, ...part.settings, s3_truncate_on_insert: 1, ...WRITE_RETRIES },
      );
    } catch (error) {
      throw explainEngineWriteError(file, error, [credentials.secretAccessKey, credentials.sessionToken ?? '', credentials.accessKeyId]);
    }
    return { bytes: await objectSize(ctx, file), rows };
  }
  mkdirSync(settings.stagingDir, { recursive: true });
  const path = join(settings.stagingDir, `part_${part.part}.${format.extension}`);
  const rows = await runPart(
    ctx,
    part,
    `INSERT INTO FUNCTION file({path:String}, {format:String}, 'auto', {compression:String})`,
    { path, format: format.engineFormat, compression: format.compression },
    { ...format.settings, ...part.settings, engine_file_truncate_on_insert: 1 },
  );
  await uploadFile(ctx.access, file.bucket, file.key, path, { contentType: settings.contentType, sse: settings.sse, sseKmsKeyId: settings.sseKmsKeyId, acl: settings.acl });
  return { bytes: statSync(path).size, rows };
}

/**
 * Runs a part's write (`insert`, the head of an INSERT that the part's rows complete). Rows of a
 * server are read by the engine itself where it can, and kept if they are still the rows counted;
 * otherwise they stream through Node into the write and are counted as they pass.
 */
async function runPart(ctx: ExportContext, part: Part, insert: string, params: Record<string, string>, settings: QuerySettings): Promise<number | undefined> {
  if (!part.feed) {
    await runStatement(ctx.engine, `${insert} ${part.sql}`, params, settings);
    return undefined;
  }
  if (!ctx.staging) throw new Error('rows that stream from a server need the worker engine');
  if (part.direct && (await writtenByEngine(ctx, ctx.staging, part.direct, insert, params, settings))) {
    ctx.log.debug({ stage: 'export_rows', via: 'engine' }, 'stage');
    return part.rows;
  }
  ctx.log.debug({ stage: 'export_rows', via: 'streamed' }, 'stage');
  const sql = `${insert} ${part.sql}`;
  const feed = part.feed;
  // The rows are counted as they pass: what the file holds, whatever the server counted before.
  const counter = nativeRowCounter();
  const source = await feed.open();
  source.on('error', (error) => counter.stream.destroy(error));
  counter.stream.on('close', () => source.destroy());
  await ctx.staging.runOverStream({ sql, params, settings, columns: feed.columns, format: feed.format }, source.pipe(counter.stream));
  return counter.rows();
}

/**
 * The engine writes the file from its own read of the server. False when the rows changed since
 * they were counted, or the read failed (an engine that cannot reach the server the way Node does,
 * a TLS certificate only Node trusts): the write through Node then writes the file again.
 */
async function writtenByEngine(
  ctx: ExportContext,
  staging: LocalEngine,
  read: CheckedServerRead,
  insert: string,
  params: Record<string, string>,
  settings: QuerySettings,
): Promise<boolean> {
  const failed = await insertFromServer(staging, insert, read, params, settings);
  if (failed !== undefined) {
    const secrets = [params.dst_key, params.dst_secret, params.dst_token, read.params.bp_server_key].filter((s): s is string => s !== undefined && s.length >= 4);
    ctx.log.debug({ stage: 'export_engine_read', outcome: 'failed', reason: redact(failed, secrets).slice(0, 300) }, 'stage');
    return false;
  }
  if (await read.unchanged()) return true;
  ctx.log.debug({ stage: 'export_engine_read', outcome: 'changed' }, 'stage');
  return false;
}

/** An engine failure while writing a file, naming the file, with secrets scrubbed. */
function explainEngineWriteError(file: PlannedFile, error: unknown, secrets: readonly string[]): BucketpipeError {
  const uri = objectUri(file.bucket, file.key);
  const raw = redact(error instanceof Error ? error.message : String(error), secrets.filter((s) => s.length >= 4));
  const firstLine = raw.split('\n')[0]!.replace(/: In scope .*$/s, '').slice(0, 600);
  const context = { bucket: file.bucket, key: file.key };
  if (/Access Denied|InvalidAccessKeyId|SignatureDoesNotMatch|HTTP response code: 403/i.test(raw)) {
    return new BucketpipeError('S3_ACCESS_DENIED', `${uri}: the engine was refused writing the file (${firstLine}). Check that the connection's credentials may write under the prefix.`, { context });
  }
  if (/NoSuchBucket/i.test(raw)) {
    return new BucketpipeError('S3_BUCKET_NOT_FOUND', `${uri}: the bucket does not exist. Check EXPORT_BUCKET_URI and the connection.`, { context });
  }
  if (/Timeout|Connection refused|Connection reset|HTTP response code: 5\d\d|SlowDown|NETWORK_ERROR|Poco::Exception/i.test(raw)) {
    return new BucketpipeError('S3_TRANSIENT', `${uri}: writing the file failed for now (${firstLine}); the export will be retried.`, { context });
  }
  return new BucketpipeError('JOB_FAILED', `${uri}: the file could not be written: ${firstLine}`, { context });
}

/**
 * The engine's own retries of a write, kept as few as the S3 client's: beyond them the run fails,
 * its keys are removed, and the job's retries (with backoff) take over, instead of the engine
 * retrying a failing service for minutes.
 */
const WRITE_RETRIES: QuerySettings = { s3_retry_attempts: 3, s3_max_unexpected_write_error_retries: 2 };

/** `s3(url, key, secret, token, format, 'auto', compression)` with every value bound. */
function s3Target(url: string, credentials: AwsCredentialIdentity): { sql: string; params: Record<string, string> } {
  return {
    sql: "s3({dst_url:String}, {dst_key:String}, {dst_secret:String}, {dst_token:String}, {dst_format:String}, 'auto', {dst_compression:String})",
    params: { dst_url: url, dst_key: credentials.accessKeyId, dst_secret: credentials.secretAccessKey, dst_token: credentials.sessionToken ?? '' },
  };
}

async function objectSize(ctx: ExportContext, file: PlannedFile): Promise<number> {
  try {
    return (await ctx.access.client.send(new HeadObjectCommand({ Bucket: file.bucket, Key: file.key }))).ContentLength ?? 0;
  } catch (error) {
    throw explainS3Error(error, { bucket: file.bucket, key: file.key, connection: ctx.access.connection.name });
  }
}
