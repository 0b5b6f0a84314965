import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { Compression } from './formats.js';

/** Where and how the engine reads one object. */
export interface ObjectSource {
  url: string;
  /** Absent = anonymous (NOSIGN) access. */
  credentials?: AwsCredentialIdentity;
  compression: Compression;
}

/** A table-function call with its bound parameters. */
export interface SqlFragment {
  sql: string;
  params: Record<string, string>;
}

/**
 * `s3(url, key, secret, token, format, structure, compression)` with every value bound as a parameter,
 * so credentials never appear in the query text.
 */
export function s3TableFunction(source: ObjectSource, format: string, structure?: string): SqlFragment {
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
