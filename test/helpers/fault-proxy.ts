import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from './seeded-random.js';

/**
 * The faults an S3 service or the network between shows:
 * - `error500`: 500 InternalError, before the request reaches the service;
 * - `slowDown`: 503 SlowDown (throttling), before the request reaches the service;
 * - `reset`: the service answers, then the connection is reset (RST) in the middle of the body;
 * - `stall`: the service answers, then the body stops for a while in the middle, then goes on;
 * - `truncate`: the service answers, then the connection is closed (FIN) in the middle of the body.
 * Reset, stall and truncate happen after the service did the work: a PUT is stored although its
 * client sees a failure, as when a response is lost.
 */
export const FAULT_KINDS = ['error500', 'slowDown', 'reset', 'stall', 'truncate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultProxyOptions {
  /** The S3 service behind the proxy, e.g. `http://127.0.0.1:4568`. */
  target: string;
  /** Share of requests that get a fault, 0..1. */
  rate: number;
  /** Same seed, same sequence of decisions (requests are numbered in arrival order). */
  seed: number;
  kinds?: readonly FaultKind[];
  /** How long a `stall` holds the body; default 1.5 s. */
  stallMs?: number;
  /** Only requests this accepts may get a fault (and draw from the sequence); default every request. */
  appliesTo?: (request: { method: string; url: string; headers: IncomingHttpHeaders }) => boolean;
}

export interface FaultCounts {
  requests: number;
  faults: Record<FaultKind, number>;
  /** Faults by HTTP method: GET for reads, PUT and POST for uploads. */
  byMethod: Record<string, number>;
}

export interface FaultProxy {
  /** Use as the connection's S3_ENDPOINT: both the SDK and the engine's s3() go through it. */
  endpoint: string;
  counts(): FaultCounts;
  /** Changes the fault rate from the next request on (0 lets everything through). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/** An HTTP proxy on 127.0.0.1 in front of an S3 service that injects faults into a share of the requests. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const kinds = options.kinds ?? FAULT_KINDS;
  const stallMs = options.stallMs ?? 1500;
  const random = seededRandom(options.seed);
  let rate = options.rate;
  const counts: FaultCounts = { requests: 0, faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>, byMethod: {} };
  const sockets = new Set<Socket>();

  const decide = (req: IncomingMessage): FaultKind | undefined => {
    counts.requests++;
    const method = req.method ?? 'GET';
    if (options.appliesTo && !options.appliesTo({ method, url: req.url ?? '/', headers: req.headers })) return undefined;
    // Two draws per request whatever the rate, so a rate change does not shift later decisions.
    const hit = random() < rate;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    if (!hit) return undefined;
    counts.faults[kind]++;
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    return kind;
  };

  const server = createServer((req, res) => {
    const fault = decide(req);
    if (fault === 'error500' || fault === 'slowDown') {
      // Read the request body first, so the client sees the answer and not a broken pipe.
      req.resume();
      req.once('end', () => refuse(res, fault));
      return;
    }
    forward(target, req, (status, headers, body) => {
      if (!fault) return send(res, status, headers, body);
      if (fault === 'stall') return stall(res, status, headers, body, stallMs);
      cutShort(res, status, headers, body, fault);
    }, () => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ requests: counts.requests, faults: { ...counts.faults }, byMethod: { ...counts.byMethod } }),
    setRate: (next) => void (rate = next),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends the request on to the service and hands over its whole answer. */
function forward(
  target: URL,
  req: IncomingMessage,
  answer: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void,
  fail: () => void,
): void {
  // The proxy already said 100 Continue to the client; the service gets the body straight away.
  const { expect: _expect, ...headers } = req.headers;
  const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (response) => {
    const chunks: Buffer[] = [];
    response.on('data', (c: Buffer) => chunks.push(c));
    response.once('end', () => answer(response.statusCode ?? 502, response.headers, Buffer.concat(chunks)));
    response.once('error', fail);
  });
  upstream.once('error', fail);
  req.pipe(upstream);
}

function responseHeaders(headers: IncomingHttpHeaders, body: Buffer, method: string | undefined): IncomingHttpHeaders {
  const { 'transfer-encoding': _te, connection: _c, 'keep-alive': _ka, ...rest } = headers;
  // A HEAD answer keeps the object's length; any other answer is sent whole, with its own length.
  return method === 'HEAD' ? rest : { ...rest, 'content-length': String(body.length) };
}

function send(res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  res.writeHead(status, responseHeaders(headers, body, res.req.method));
  res.end(body);
}

function refuse(res: ServerResponse, fault: 'error500' | 'slowDown'): void {
  const [status, code, message] =
    fault === 'slowDown' ? [503, 'SlowDown', 'Please reduce your request rate.'] : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(body.length) });
  res.end(body);
}

/** The head and half the body, then the connection goes: reset (RST) or closed (FIN). An empty body goes before its head. */
function cutShort(res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer, fault: 'reset' | 'truncate'): void {
  const socket = res.socket;
  if (!socket) return;
  const cut = () => (fault === 'reset' ? socket.resetAndDestroy() : socket.end());
  if (body.length === 0) return void cut();
  res.writeHead(status, responseHeaders(headers, body, res.req.method));
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => cut());
}

/** The head and half the body, a pause, then the rest. */
function stall(res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer, stallMs: number): void {
  res.writeHead(status, responseHeaders(headers, body, res.req.method));
  const half = Math.floor(body.length / 2);
  res.write(body.subarray(0, half));
  // Unref'd: a long stall (a black hole) must not keep the test process alive.
  setTimeout(() => {
    if (!res.destroyed) res.end(body.subarray(half));
  }, stallMs).unref();
}
