import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { importFormat, type Compression } from '../formats.js';

/** Where and how the engine reads one object. */
export interface ObjectSource {
  url: string;
  /**
   * Set when `url` is a pattern (the key holds characters the engine reads as a glob): reads keep only
   * the object whose `_path` ends with this, `/bucket/key`. See engineObjectLocation.
   */
  exactPath?: string;
  /**
   * Set when the object was converted to UTF-8 (see text-encoding.ts): reads take this file of the
   * reading engine's machine instead, already pinned to the listed version when it was written.
   */
  localFile?: string;
  /** The ETag the object was listed with: a read of any other content fails (OBJECT_CHANGED). */
  etag?: string;
  /** Absent = anonymous (NOSIGN) access. */
  credentials?: AwsCredentialIdentity;
  compression: Compression;
}

/** A table-function call with its bound parameters. */
export interface SqlFragment {
  sql: string;
  params: Record<string, string>;
}

/** The message of the check that fails a read whose object is not the version that was listed. */
export const OBJECT_CHANGED_MARK = 'bucketpipe: the object changed after it was listed';

/**
 * `s3(url, key, secret, token, format, structure, compression)` with every value bound as a parameter,
 * so credentials never appear in the query text. With an ETag, the read is pinned to it: the engine
 * reads the ETag along with the data (and refuses a change during the read itself), and a read of
 * any other version fails, so the rows loaded are always those of the version the ledger records.
 * With an exact path, the read keeps that one object of the ones its pattern URL matches: the
 * engine filters the keys it listed by `_path` before it opens any, so neighbours are never read
 * (nor their ETags checked). Give a structure to such a read: the engine would infer one from the
 * first object the pattern matches, which may be a neighbour (see describeTarget).
 */
export function s3TableFunction(source: ObjectSource, format: string, structure?: string): SqlFragment {
  if (source.localFile !== undefined) return fileCall(source.localFile, format, structure);
  const call = s3Call(source, format, structure);
  const conditions: string[] = [];
  const params = { ...call.params };
  if (source.exactPath !== undefined) {
    conditions.push(EXACT_PATH_CONDITION);
    params.src_path = source.exactPath;
  }
  if (source.etag !== undefined) {
    // ETags are compared without their quotes, as the listing gives them.
    conditions.push(`throwIf(trim(BOTH '"' FROM _etag) != {src_etag:String}, '${OBJECT_CHANGED_MARK}') = 0`);
    params.src_etag = source.etag;
  }
  if (conditions.length === 0) return call;
  return {
    // The row number is the engine's virtual column: passed through by name for the reads that use it.
    sql: `(SELECT *, _row_number AS _row_number FROM ${call.sql} WHERE ${conditions.join(' AND ')})`,
    params,
  };
}

/** `_path` is `bucket/key` (or `base/bucket/key` behind an endpoint with a base path). */
const EXACT_PATH_CONDITION = "endsWith(concat('/', _path), {src_path:String})";

/**
 * What `DESCRIBE TABLE` infers an object's columns from: the object itself, unpinned (a description
 * of a table function, not of a query). For a pattern URL the engine would infer from the first
 * object the pattern matches, whatever a WHERE says (measured), so the sample it infers from is the
 * object's own text, read by the engine with the exact-path filter and handed to `format()` as a
 * constant: its first lines for text formats (as many as inference reads), the whole object for
 * Parquet, whose columns are in its footer (such an object is held in memory while it is described).
 */
export function describeTarget(source: ObjectSource, format: string): SqlFragment {
  const unpinned = { ...source, etag: undefined };
  if (source.localFile !== undefined) return fileCall(source.localFile, format);
  if (source.exactPath === undefined) return s3Call(unpinned, format);
  const sample = format === importFormat('parquet').engineFormat ? wholeObject(unpinned) : firstLines(unpinned, DESCRIBE_SAMPLE_LINES);
  return { sql: `format({sample_format:String}, (${sample.sql}))`, params: { ...sample.params, sample_format: format } };
}

function wholeObject(source: ObjectSource): SqlFragment {
  const raw = s3TableFunction(source, 'RawBLOB', 'raw String');
  return { sql: `SELECT raw FROM ${raw.sql}`, params: raw.params };
}

function firstLines(source: ObjectSource, count: number): SqlFragment {
  const lines = s3TableFunction(source, 'LineAsString', 'line String');
  return { sql: `SELECT arrayStringConcat(groupArray(line), '\\n') FROM (SELECT line FROM ${lines.sql} LIMIT ${count})`, params: lines.params };
}

/** Lines of the sample an object with an odd key is described from: the engine's inference reads 25,000 rows. */
const DESCRIBE_SAMPLE_LINES = 25_001;

/** `file(path, format, structure)` of a converted copy, every value bound; it is plain text. */
function fileCall(path: string, format: string, structure?: string): SqlFragment {
  const params: Record<string, string> = { src_file: path, src_format: format };
  if (structure !== undefined) params.src_structure = structure;
  return { sql: `file({src_file:String}, {src_format:String}, ${structure === undefined ? "'auto'" : '{src_structure:String}'}, 'none')`, params };
}

function s3Call(source: ObjectSource, format: string, structure?: string): SqlFragment {
  const params: Record<string, string> = { src_url: source.url, src_format: format, src_compression: source.compression };
  const args = ['{src_url:String}'];
  if (source.credentials) {
    params.src_key = source.credentials.accessKeyId;
    params.src_secret = source.credentials.secretAccessKey;
    params.src_token = source.credentials.sessionToken ?? '';
    args.push('{src_key:String}', '{src_secret:String}', '{src_token:String}');
  } else {
    args.push('NOSIGN');
  }
  args.push('{src_format:String}');
  if (structure !== undefined) {
    params.src_structure = structure;
    args.push('{src_structure:String}');
  } else {
    args.push("'auto'");
  }
  args.push('{src_compression:String}');
  return { sql: `s3(${args.join(', ')})`, params };
}

/** The secret values of a source, to scrub from any engine message before it is shown or stored. */
export function sourceSecrets(source: ObjectSource): string[] {
  const c = source.credentials;
  return c ? [c.secretAccessKey, c.sessionToken ?? '', c.accessKeyId].filter((s) => s.length >= 4) : [];
}

/** Replaces every occurrence of a secret with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}
