import { describe, it, expect } from 'vitest';
import { engineObjectLocation, engineObjectUrl, engineWritesLiterally } from '../../src/bucket/engine-url.js';
import type { ConnectionSpec } from '../../src/project/types.js';

function connection(overrides: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    name: 'my_s3',
    location: { file: 'connections/my_s3.connection', line: 1 },
    type: 's3',
    region: 'eu-west-1',
    forcePathStyle: false,
    ...overrides,
  };
}

describe('engineObjectUrl', () => {
  it('builds a virtual-host AWS URL from the region when there is no endpoint', () => {
    expect(engineObjectUrl(connection(), 'my-bucket', 'events/a.csv')).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/events/a.csv');
    expect(engineObjectUrl(connection({ region: 'us-east-1' }), 'b', 'k')).toBe('https://b.s3.us-east-1.amazonaws.com/k');
  });

  it('puts the bucket in the path for a path-style endpoint', () => {
    const c = connection({ endpoint: 'http://localhost:9000', forcePathStyle: true });
    expect(engineObjectUrl(c, 'my-bucket', 'events/a.csv')).toBe('http://localhost:9000/my-bucket/events/a.csv');
  });

  it('drops a trailing slash of the endpoint and keeps its base path', () => {
    expect(engineObjectUrl(connection({ endpoint: 'http://localhost:9000/', forcePathStyle: true }), 'b', 'k')).toBe('http://localhost:9000/b/k');
    expect(engineObjectUrl(connection({ endpoint: 'http://minio:9000/s3/', forcePathStyle: true }), 'b', 'k')).toBe('http://minio:9000/s3/b/k');
  });

  it('puts the bucket in the host for a virtual-host endpoint', () => {
    const c = connection({ endpoint: 'https://r2.example.com', forcePathStyle: false });
    expect(engineObjectUrl(c, 'my-bucket', 'events/a.csv')).toBe('https://my-bucket.r2.example.com/events/a.csv');
    const withPort = connection({ endpoint: 'http://storage.local:8080/', forcePathStyle: false });
    expect(engineObjectUrl(withPort, 'b', 'k')).toBe('http://b.storage.local:8080/k');
  });

  it('ignores the region when an endpoint is set', () => {
    const c = connection({ endpoint: 'http://localhost:9000', forcePathStyle: true, region: 'ap-south-1' });
    expect(engineObjectUrl(c, 'b', 'k')).not.toContain('ap-south-1');
  });

  it('percent-encodes spaces and unicode in each segment and keeps the slashes', () => {
    expect(engineObjectUrl(connection(), 'b', 'my folder/ünïcødé file.csv')).toBe(
      'https://b.s3.eu-west-1.amazonaws.com/my%20folder/%C3%BCn%C3%AFc%C3%B8d%C3%A9%20file.csv',
    );
  });

  it('encodes the characters the engine would read as a glob', () => {
    const url = engineObjectUrl(connection(), 'b', 'd/a*b?c{d,e}f.csv');
    expect(url).toBe('https://b.s3.eu-west-1.amazonaws.com/d/a%2Ab%3Fc%7Bd%2Ce%7Df.csv');
    expect(url.slice('https://'.length)).not.toMatch(/[*?{}]/);
  });

  it('encodes #, %, + and sub-delimiters', () => {
    expect(engineObjectUrl(connection(), 'b', '100%+#1.csv')).toBe('https://b.s3.eu-west-1.amazonaws.com/100%25%2B%231.csv');
    expect(engineObjectUrl(connection(), 'b', "it's (1)!.csv")).toBe('https://b.s3.eu-west-1.amazonaws.com/it%27s%20%281%29%21.csv');
  });

  it('keeps unreserved characters as they are', () => {
    expect(engineObjectUrl(connection(), 'b', 'a-b_c.d~e/F9.csv')).toBe('https://b.s3.eu-west-1.amazonaws.com/a-b_c.d~e/F9.csv');
  });

  it('keeps empty segments (double and trailing slashes) of a key', () => {
    expect(engineObjectUrl(connection(), 'b', 'a//b/')).toBe('https://b.s3.eu-west-1.amazonaws.com/a//b/');
  });

  it('produces a path that decodes back to the key', () => {
    const key = 'x y/ü*?{}#%+/z.csv';
    const url = new URL(engineObjectUrl(connection({ endpoint: 'http://localhost:9000', forcePathStyle: true }), 'b', key));
    const path = url.pathname.slice('/b/'.length);
    expect(path.split('/').map(decodeURIComponent).join('/')).toBe(key);
  });
});

describe('engineObjectLocation', () => {
  const local = connection({ endpoint: 'http://localhost:9000', forcePathStyle: true });

  it('is the literal URL for a key the engine reads as it is', () => {
    for (const key of ['d/a.csv', 'd/sq[1].csv', 'd/a,b.csv', 'd/100%.csv', 'd/z.zip :: in.csv', 'd/é x.csv']) {
      expect(engineObjectLocation(local, 'b', key)).toEqual({ url: engineObjectUrl(local, 'b', key) });
      expect(engineWritesLiterally(key)).toBe(true);
    }
  });

  it('reads each glob character as any one character, and keeps the exact path to filter on', () => {
    expect(engineObjectLocation(local, 'b', 'd/st*r{1..3}?.csv')).toEqual({
      url: 'http://localhost:9000/b/d/st%3Fr%3F1..3%3F%3F.csv',
      exactPath: '/b/d/st*r{1..3}?.csv',
    });
    for (const key of ['a*b', 'a?b', 'a{b', 'a}b', 'a**b/c']) expect(engineWritesLiterally(key)).toBe(false);
  });
});
