import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A private Redis (redis-server from PATH) on a free loopback port, keeping nothing on disk. */
export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops and starts it again on the same port, empty, as after a crash without persistence. */
  restart(): Promise<void>;
}

export async function startLocalRedis(port?: number): Promise<LocalRedis> {
  const chosen = port ?? (await freePort());
  let child = await launch(chosen);
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      child = await launch(chosen);
    },
  };
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
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
