import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A local S3-compatible server (s3rver) in its own process, on a free loopback port, for the demo
 * and the tests. It runs in its own process because the embedded engine's calls would stall it.
 */
export interface S3Server {
  endpoint: string;
  stop(): Promise<void>;
}

/** s3rver accepts any secret; only an unknown access key id is refused. */
export const S3_KEY = 'S3RVER';
export const S3_SECRET = 'S3RVER';

export async function startS3Server(options: { dir?: string } = {}): Promise<S3Server> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'bucketpipe-s3-'));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  // Its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 refuses without the legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--no-vhost-buckets'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on ([\d.]+):(\d+)/.exec(output);
      if (match) resolve(`http://${match[1]}:${match[2]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`s3rver did not start: ${output}`)), 20_000).unref();
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    endpoint,
    stop: () => stopChild(child).then(() => (options.dir ? undefined : rmSync(dir, { recursive: true, force: true }))),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
