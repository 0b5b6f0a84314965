import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import type { Connection } from 'chdb/connection';

/** What a process that holds the embedded store publishes so other processes can use it. */
export interface HostRecord {
  url: string;
  token: string;
  pid: number;
  /** `worker`, `dev` or `cli`: long-running holders are used; short ones are waited for. */
  role: string;
}

/** The file beside the data directory that names the running host. */
export function hostRecordPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.host.json`;
}

export function readHostRecord(dataDir: string): HostRecord | undefined {
  try {
    return JSON.parse(readFileSync(hostRecordPath(dataDir), 'utf8')) as HostRecord;
  } catch {
    return undefined;
  }
}

type Method = 'query' | 'exec' | 'command' | 'insert' | 'ping';

/** A request as the remote connection sends it: the client's parameters, minus what cannot travel. */
export interface HostRequest {
  method: Method;
  params: Record<string, unknown> & { values?: string };
}

/**
 * Serves the embedded store's connection to other local processes: `bucketpipe sql` while a worker
 * runs, a second worker, the CLI's sync. Loopback only, with a random token that only this user can
 * read. Whatever a browser sends is refused: requests with an Origin or Sec-Fetch-Site header, a Host
 * other than this address (a page whose name was rebound to 127.0.0.1), and bodies other than JSON
 * (the content types of requests a page may send without asking first).
 */
export async function hostStore(connection: Connection<Readable>, dataDir: string, role: string): Promise<{ close(): Promise<void> }> {
  const token = randomBytes(24).toString('hex');
  let address = '';
  const server = createServer((req, res) => {
    handle(connection, { token, address }, req)
      .then((reply) => {
        res.writeHead(reply.status, { 'content-type': reply.type });
        res.end(reply.body);
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as { port: number }).port;
  address = `127.0.0.1:${port}`;
  const record: HostRecord = { url: `http://${address}`, token, pid: process.pid, role };
  const path = hostRecordPath(dataDir);
  writeFileSync(path, JSON.stringify(record), { mode: 0o600 });
  chmodSync(path, 0o600);
  return {
    close: async () => {
      if (readHostRecord(dataDir)?.token === token) rmSync(path, { force: true });
      await closeServer(server);
    },
  };
}

interface Reply {
  status: number;
  type: string;
  body: Buffer | string;
}

async function handle(connection: Connection<Readable>, host: { token: string; address: string }, req: IncomingMessage): Promise<Reply> {
  if (req.method !== 'POST' || req.url !== '/rpc') return { status: 404, type: 'text/plain', body: 'not found' };
  // Browsers send these with every request (Node's fetch sends Sec-Fetch-Mode only, so not that one).
  const browser = ['origin', 'sec-fetch-site', 'sec-fetch-dest'].some((h) => req.headers[h] !== undefined);
  if (browser) return { status: 403, type: 'text/plain', body: 'requests from browsers are refused' };
  if (req.headers.host !== host.address) return { status: 403, type: 'text/plain', body: 'wrong host' };
  if (!sameSecret(req.headers.authorization ?? '', `Bearer ${host.token}`)) return { status: 401, type: 'text/plain', body: 'unauthorized' };
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return { status: 415, type: 'text/plain', body: 'send application/json' };
  let request: HostRequest;
  try {
    request = JSON.parse((await readBody(req)).toString('utf8')) as HostRequest;
  } catch {
    return { status: 400, type: 'text/plain', body: 'the body is not JSON' };
  }
  try {
    return await serve(connection, request);
  } catch (error) {
    return { status: 500, type: 'application/json', body: JSON.stringify({ message: withoutBoundValues(error, request) }) };
  }
}

async function serve(connection: Connection<Readable>, request: HostRequest): Promise<Reply> {
  const params = request.params as never;
  switch (request.method) {
    case 'ping': {
      const result = await connection.ping(params);
      return json({ success: result.success, error: result.success ? undefined : result.error.message });
    }
    case 'command': {
      const result = await connection.command(params);
      return json({ query_id: result.query_id, summary: result.summary });
    }
    case 'insert': {
      const result = await connection.insert(params);
      return json({ query_id: result.query_id, summary: result.summary });
    }
    case 'query':
    case 'exec': {
      const result = request.method === 'query' ? await connection.query(params) : await connection.exec(params);
      return { status: 200, type: 'application/octet-stream', body: await readBody(result.stream) };
    }
    default:
      return { status: 400, type: 'text/plain', body: 'unknown method' };
  }
}

/**
 * The engine's message, without the request's bound values: the engine quotes the failing query with
 * its values in place ("In scope SELECT … 'secret' …"), and values may be credentials. The quote is
 * dropped; the values are also taken out of the rest.
 */
function withoutBoundValues(error: unknown, request: HostRequest): string {
  let message = (error instanceof Error ? error.message : String(error)).replace(/: In scope [\s\S]*$/, '.');
  const values = Object.values((request.params?.query_params ?? {}) as Record<string, unknown>);
  for (const value of values.flat(Infinity)) {
    const text = typeof value === 'string' ? value : '';
    if (text.length >= 4) message = message.split(text).join('[bound value]');
  }
  return message;
}

/** Compares without leaking, through timing, how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function json(value: unknown): Reply {
  return { status: 200, type: 'application/json', body: JSON.stringify(value) };
}

async function readBody(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
