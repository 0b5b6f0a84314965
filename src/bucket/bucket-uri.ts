import micromatch from 'micromatch';
import { GLOB_CHARS, type BucketUri } from '../project/bucket-uri.js';

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
