import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private Redis (redis-server from PATH) on a free loopback port. */
export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /**
   * Kills it (SIGKILL) and starts it again on the same port after `downMs`: empty, as after a crash
   * without persistence, or with every acknowledged write when started `persistent`.
   */
  restart(downMs?: number): Promise<void>;
}

export interface LocalRedisOptions {
  port?: number;
  /** Keep an append-only file synced on every write, as a production Redis would (default: nothing on disk). */
  persistent?: boolean;
}

export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const chosen = options.port ?? (await freePort());
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'bucketpipe-redis-')) : undefined;
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', ...(dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])];
  let child = await launch(args);
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    stop: async () => {
      await stopChild(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    restart: async (downMs = 0) => {
      await stopChild(child);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch(args);
    },
  };
}

async function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => reject(new Error(`redis-server could not start (${error.message}); install Redis or set REDIS_URL`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 15_000).unref();
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
