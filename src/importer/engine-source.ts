import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { Compression } from './formats.js';

/** Where and how the engine reads one object. */
export interface ObjectSource {
  url: string;
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
 */
export function s3TableFunction(source: ObjectSource, format: string, structure?: string): SqlFragment {
  const call = s3Call(source, format, structure);
  if (source.etag === undefined) return call;
  return {
    // The row number is the engine's virtual column: passed through by name for the reads that use it.
    // ETags are compared without their quotes, as the listing gives them.
    sql: `(SELECT *, _row_number AS _row_number FROM ${call.sql} WHERE throwIf(trim(BOTH '"' FROM _etag) != {src_etag:String}, '${OBJECT_CHANGED_MARK}') = 0)`,
    params: { ...call.params, src_etag: source.etag },
  };
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
