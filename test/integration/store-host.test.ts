import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/store/create-store.js';
import { selectRows } from '../../src/store/queries.js';
import { hostRecordPath, readHostRecord, type HostRecord } from '../../src/store/store-host.js';

/**
 * The local HTTP API (issue 7, security): the process that holds the embedded store serves it to
 * other local processes. It must listen on loopback only and refuse whatever a browser page could
 * send, before anything reaches the engine.
 */
describe('the embedded store host (local HTTP API)', () => {
  let dataDir: string;
  let store: Store;
  let host: HostRecord;
  let port: number;

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'bucketpipe-host-')), 'data');
    store = await createStore({ dataDir });
    host = readHostRecord(dataDir)!;
    port = Number(new URL(host.url).port);
  });
  afterAll(async () => {
    await store.close();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  /** A raw request, so every header (Host included) is the test's choice. */
  function send(options: { method?: string; headers?: OutgoingHttpHeaders; body?: string; path?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/rpc', headers: options.headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }
  const goodHeaders = (): OutgoingHttpHeaders => ({ host: `127.0.0.1:${port}`, authorization: `Bearer ${host.token}`, 'content-type': 'application/json' });
  const command = (sql: string, params: Record<string, unknown> = {}) => JSON.stringify({ method: 'command', params: { query: sql, query_params: params } });
  const tableExists = async (name: string) =>
    Number((await selectRows<{ n: string }>(store.client, 'SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {name:String}', { name }))[0]?.n) > 0;

  it('listens on loopback only, and its token is in a file only its user can read', async () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
    expect(statSync(hostRecordPath(dataDir)).mode & 0o777).toBe(0o600);
    const elsewhere = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal).map((a) => a!.address);
    for (const address of [...elsewhere, '::1']) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port });
        socket.once('connect', () => (socket.destroy(), resolve('connected')));
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, `port ${port} on ${address}`).not.toBe('connected');
    }
  });

  it('serves a request with the token, as its own client sends it', async () => {
    const reply = await send({ headers: goodHeaders(), body: command('CREATE TABLE host_allowed (x UInt8) ENGINE = Memory') });
    expect(reply.status, reply.body).toBe(200);
    expect(await tableExists('host_allowed')).toBe(true);
  });

  const REFUSED: Array<{ name: string; status: number; change: (h: OutgoingHttpHeaders) => OutgoingHttpHeaders; method?: string }> = [
    { name: 'no token', status: 401, change: ({ authorization: _a, ...h }) => h },
    { name: 'a wrong token of the same length', status: 401, change: (h) => ({ ...h, authorization: `Bearer ${'0'.repeat(48)}` }) },
    { name: 'the token in another scheme', status: 401, change: (h) => ({ ...h, authorization: String(h.authorization).replace('Bearer', 'Basic') }) },
    { name: 'an Origin header (a cross-origin page)', status: 403, change: (h) => ({ ...h, origin: 'https://evil.example' }) },
    { name: 'an Origin header of the host itself', status: 403, change: (h) => ({ ...h, origin: `http://127.0.0.1:${port}` }) },
    { name: 'Sec-Fetch-Site (any browser request)', status: 403, change: (h) => ({ ...h, 'sec-fetch-site': 'same-origin' }) },
    { name: 'another Host (a page rebound to 127.0.0.1)', status: 403, change: (h) => ({ ...h, host: `evil.example:${port}` }) },
    { name: 'a text/plain body (a simple CORS request)', status: 415, change: (h) => ({ ...h, 'content-type': 'text/plain' }) },
    { name: 'a form body', status: 415, change: (h) => ({ ...h, 'content-type': 'application/x-www-form-urlencoded' }) },
    { name: 'a multipart body', status: 415, change: (h) => ({ ...h, 'content-type': 'multipart/form-data; boundary=x' }) },
    { name: 'no content type', status: 415, change: ({ 'content-type': _c, ...h }) => h },
    { name: 'GET', status: 404, change: (h) => h, method: 'GET' },
    { name: 'PUT', status: 404, change: (h) => h, method: 'PUT' },
  ];
  for (const [i, r] of REFUSED.entries()) {
    it(`refuses ${r.name} (${r.status}) before the engine sees it`, async () => {
      const table = `host_refused_${i}`;
      const body = r.method === 'GET' ? undefined : command(`CREATE TABLE ${table} (x UInt8) ENGINE = Memory`);
      const reply = await send({ method: r.method, headers: r.change(goodHeaders()), body });
      expect(reply.status).toBe(r.status);
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
      expect(reply.body).not.toContain(host.token);
      expect(await tableExists(table)).toBe(false);
    });
  }

  it('answers a CORS preflight with nothing a browser would accept', async () => {
    const reply = await send({ method: 'OPTIONS', headers: { host: `127.0.0.1:${port}`, origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(reply.status).toBe(404);
    expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('answers a body that is not JSON with 400 and keeps serving', async () => {
    const bad = await send({ headers: goodHeaders(), body: '{"method": "command", "params": ' });
    expect(bad.status).toBe(400);
    const good = await send({ headers: goodHeaders(), body: JSON.stringify({ method: 'ping', params: {} }) });
    expect(good.status).toBe(200);
    expect(JSON.parse(good.body)).toMatchObject({ success: true });
  });

  it('never echoes bound values in an error reply: the engine quotes them, the host takes them out', async () => {
    const canary = 'canary-bound-value-3f9d1c';
    const reply = await send({ headers: goodHeaders(), body: JSON.stringify({ method: 'query', params: { query: 'SELECT toInt32({v:String}) AS n FORMAT JSONEachRow', query_params: { v: canary } } }) });
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body).message).toMatch(/^Cannot parse string '\[bound value\]' as Int32/);
    expect(reply.body).not.toContain(canary);
    // The same failure through the store's own client (the path other processes take) says the same.
    const remote = await import('../../src/store/remote-connection.js');
    const connection = new remote.RemoteStoreConnection(host);
    const failure = await connection.query({ query: 'SELECT toInt32({v:String}) AS n FORMAT JSONEachRow', query_params: { v: canary } } as never).catch((e: Error) => e);
    expect(String((failure as Error).message)).not.toContain(canary);
  });
});
