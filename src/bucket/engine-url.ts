import type { ConnectionSpec } from '../project/types.js';

/**
 * Characters the engine's `s3()` reads as a glob in a key: `*`, `**`, `?`, `{a,b}` and `{1..9}`.
 * Percent-encoding does not escape them: the engine decodes the URL's path before it looks for globs
 * (measured on chDB 3.4 / engine 26.7: `s3('…/star%2A.csv')` read `star*.csv`, `starX.csv` and
 * `starYY.csv`; `br%7Bace%7D.csv` read `brace.csv` and never `br{ace}.csv`), and it has no escape
 * for them. `[`, `]`, `,` and `%` are literal to it; `::` (its archive syntax) only counts unencoded.
 */
const ENGINE_GLOB = /[*?{}]/g;

/** Where the engine's `s3()` reads one object. */
export interface EngineLocation {
  /** The HTTP(S) URL handed to `s3()`. */
  url: string;
  /**
   * Set when the key holds a glob character: the URL is then a pattern that matches the object (each
   * such character read as `?`, any one character) and perhaps neighbours, and every read keeps only
   * the object whose `_path` ends with this (`/bucket/key`). Neighbours match only one character for
   * each, in the same folder, so the listing the engine makes for the pattern stays small.
   */
  exactPath?: string;
}

/**
 * The location of an object for the engine's reads: the literal URL, or, for a key the engine would
 * read as a glob, a pattern URL and the exact path the reads must keep.
 */
export function engineObjectLocation(connection: ConnectionSpec, bucket: string, key: string): EngineLocation {
  if (engineWritesLiterally(key)) return { url: engineObjectUrl(connection, bucket, key) };
  return { url: engineObjectUrl(connection, bucket, key.replace(ENGINE_GLOB, '?')), exactPath: `/${bucket}/${key}` };
}

/**
 * Whether the engine reads and writes this key as the one object it names. A key with a glob
 * character cannot be written by the engine at all ("contains globs, the table is in readonly
 * mode", encoded or not): exports of such keys go through the S3 client instead.
 */
export function engineWritesLiterally(key: string): boolean {
  return key.search(ENGINE_GLOB) === -1;
}

/**
 * The HTTP(S) URL of an object for the engine's `s3()` function. Each key segment is percent-encoded,
 * so that spaces, unicode, `%`, `#`, `?` and `::` reach the server as the key's own characters; the
 * engine still reads `* ? { }` in the decoded path as a glob (see engineObjectLocation).
 */
export function engineObjectUrl(connection: ConnectionSpec, bucket: string, key: string): string {
  const path = key.split('/').map(encodeSegment).join('/');
  if (connection.endpoint) {
    const endpoint = new URL(connection.endpoint);
    const base = `${endpoint.protocol}//${endpoint.host}${endpoint.pathname.replace(/\/$/, '')}`;
    if (connection.forcePathStyle) return `${base}/${bucket}/${path}`;
    return `${endpoint.protocol}//${bucket}.${endpoint.host}${endpoint.pathname.replace(/\/$/, '')}/${path}`;
  }
  return `https://${bucket}.s3.${connection.region}.amazonaws.com/${path}`;
}

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[*'()!]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
