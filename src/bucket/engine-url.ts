import type { ConnectionSpec } from '../project/types.js';

/**
 * The HTTP(S) URL the engine's `s3()` function reads an object from. Each key segment is
 * percent-encoded, including the characters the engine would take as a glob (`*`, `?`, `{`, `}`).
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
