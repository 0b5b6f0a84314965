/**
 * The bucket URIs of a datasource, parsed once when the project is loaded: `IMPORT_BUCKET_URI` into
 * the bucket and key pattern to list and match, `EXPORT_BUCKET_URI` into the bucket and key prefix to
 * write under. The spec carries these values; later stages read them instead of parsing again.
 */

/** `s3://bucket/prefix/**\/*.csv` split into what S3 can filter (the prefix) and what we match. */
export interface BucketUri {
  bucket: string;
  /** The key part, a glob: `*` stays within one folder, `**` crosses folders, `?`, `{a,b}`, `[a-z]`. */
  keyPattern: string;
  /** The longest literal start of the pattern: ListObjectsV2 is asked for this prefix only. */
  listPrefix: string;
}

/** `s3://bucket/prefix/` of an export: the bucket and the key prefix (ending with `/`, or empty). */
export interface ExportDestination {
  bucket: string;
  prefix: string;
}

export const GLOB_CHARS = /[*?{}[\]!()+@]/;
const BUCKET = /^[a-z0-9.-]{3,63}$/;
const q = JSON.stringify;

export function parseBucketUri(uri: string): BucketUri {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!match) throw new Error(`"${uri}" is not an s3:// URI: write s3://bucket/prefix/*.csv`);
  const bucket = match[1]!;
  const keyPattern = match[2] ?? '';
  const firstGlob = keyPattern.search(GLOB_CHARS);
  const listPrefix = firstGlob === -1 ? keyPattern : keyPattern.slice(0, firstGlob);
  return { bucket, keyPattern, listPrefix };
}

export function parseExportUri(uri: string): ExportDestination {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!match) throw new Error(`"${uri}" is not an s3:// URI: write s3://bucket/prefix/`);
  const prefix = match[2] ?? '';
  return { bucket: match[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/** What is wrong with an `IMPORT_BUCKET_URI`, in the words of the datafile; undefined when nothing. */
export function importUriProblem(uri: string): string | undefined {
  const example = 'e.g. s3://my-bucket/events/*.ndjson.gz';
  if (!uri.startsWith('s3://')) return `IMPORT_BUCKET_URI ${q(uri)} must start with s3://, ${example}`;
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket)) {
    return `the bucket ${q(bucket)} in IMPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens`;
  }
  if (slash === -1 || rest.slice(slash + 1) === '') {
    return `IMPORT_BUCKET_URI ${q(uri)} has no key or pattern after the bucket: add one, e.g. s3://${bucket}/**`;
  }
  return undefined;
}

/** What is wrong with an `EXPORT_BUCKET_URI` (a folder: no glob); undefined when nothing. */
export function exportUriProblem(uri: string): string | undefined {
  const example = 'e.g. s3://my-bucket/exports/';
  if (!uri.startsWith('s3://')) return `EXPORT_BUCKET_URI ${q(uri)} must start with s3://, ${example}`;
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket)) {
    return `the bucket ${q(bucket)} in EXPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens`;
  }
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  const glob = /[*?{}[\]]/.exec(prefix);
  if (glob !== null) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains the pattern character ${q(glob[0])}: write the folder the files go to, without patterns, ${example}`;
  }
  if (prefix.startsWith('/') || prefix.includes('//')) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains "//", an empty folder name: write a single "/"`;
  }
  if (prefix.split('/').includes('..')) return `EXPORT_BUCKET_URI ${q(uri)} has ".." as a folder: S3 keys have no parent folder, so remove it`;
  if (/[\u0000-\u001f\u007f\\]/.test(prefix)) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains a control character or a backslash: separate folders with "/"`;
  }
  return undefined;
}
