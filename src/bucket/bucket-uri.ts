import micromatch from 'micromatch';

/** `s3://bucket/prefix/**\/*.csv` split into what S3 can filter (the prefix) and what we match. */
export interface BucketUri {
  bucket: string;
  /** The key part, a glob: `*` stays within one folder, `**` crosses folders, `?`, `{a,b}`, `[a-z]`. */
  keyPattern: string;
  /** The longest literal start of the pattern: ListObjectsV2 is asked for this prefix only. */
  listPrefix: string;
}

const GLOB_CHARS = /[*?{}[\]!()+@]/;

export function parseBucketUri(uri: string): BucketUri {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!match) throw new Error(`"${uri}" is not an s3:// URI: write s3://bucket/prefix/*.csv`);
  const bucket = match[1]!;
  const keyPattern = match[2] ?? '';
  const firstGlob = keyPattern.search(GLOB_CHARS);
  const listPrefix = firstGlob === -1 ? keyPattern : keyPattern.slice(0, firstGlob);
  return { bucket, keyPattern, listPrefix };
}

/** A predicate over keys. A pattern without glob characters is an exact key or a folder prefix. */
export function keyMatcher(uri: BucketUri): (key: string) => boolean {
  if (uri.keyPattern === '') return () => true;
  if (!GLOB_CHARS.test(uri.keyPattern)) {
    const exact = uri.keyPattern;
    return exact.endsWith('/') ? (key) => key.startsWith(exact) : (key) => key === exact;
  }
  return micromatch.matcher(uri.keyPattern, { dot: true });
}

/** `s3://bucket/key` for messages and the ops log. */
export function objectUri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** `s3://bucket/prefix/` of an export: the bucket and the key prefix (ending with `/`, or empty). */
export function parseExportUri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!match) throw new Error(`"${uri}" is not an s3:// URI: write s3://bucket/prefix/`);
  const prefix = match[2] ?? '';
  return { bucket: match[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}
