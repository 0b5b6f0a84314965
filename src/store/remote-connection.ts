import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  ConnBaseQueryParams,
  ConnCommandResult,
  ConnExecParams,
  ConnExecResult,
  ConnInsertParams,
  ConnInsertResult,
  ConnPingResult,
  ConnQueryResult,
  Connection,
} from 'chdb/connection';
import { BucketpipeError } from '../errors.js';
import type { HostRecord, HostRequest } from './store-host.js';

/**
 * The `@clickhouse/client` connection seam, filled by calls to the process that holds the embedded
 * store (see store-host.ts). Results are the same bytes the holder's engine produced.
 */
export class RemoteStoreConnection implements Connection<Readable> {
  constructor(private readonly host: HostRecord) {}

  async query(params: ConnBaseQueryParams): Promise<ConnQueryResult<Readable>> {
    const body = await this.call('query', params);
    return { stream: Readable.from([body]), query_id: params.query_id ?? randomUUID(), response_headers: {}, http_status_code: 200 };
  }

  async exec(params: ConnExecParams<Readable>): Promise<ConnExecResult<Readable>> {
    const values = params.values === undefined ? undefined : await streamText(params.values);
    const body = await this.call('exec', { ...params, values });
    return { stream: Readable.from([body]), query_id: params.query_id ?? randomUUID(), response_headers: {}, http_status_code: 200 };
  }

  async command(params: ConnBaseQueryParams): Promise<ConnCommandResult> {
    const reply = JSON.parse((await this.call('command', params)).toString('utf8')) as ConnCommandResult;
    return { ...reply, response_headers: {}, http_status_code: 200 };
  }

  async insert(params: ConnInsertParams<Readable>): Promise<ConnInsertResult> {
    const values = await streamText(params.values);
    const reply = JSON.parse((await this.call('insert', { ...params, values })).toString('utf8')) as ConnInsertResult;
    return { ...reply, response_headers: {}, http_status_code: 200 };
  }

  async ping(): Promise<ConnPingResult> {
    try {
      const reply = JSON.parse((await this.call('ping', {})).toString('utf8')) as { success: boolean; error?: string };
      return reply.success ? { success: true } : { success: false, error: new Error(reply.error ?? 'the store does not answer') };
    } catch (error) {
      return { success: false, error: error as Error };
    }
  }

  async close(): Promise<void> {}

  private async call(method: HostRequest['method'], params: object): Promise<Buffer> {
    // The abort signal and the session id belong to this process; they cannot travel. An aborted
    // request stops waiting; the statement itself runs on in the holder's engine.
    const { abort_signal: signal, session_id: _session, ...rest } = params as Record<string, unknown>;
    let response: Response;
    try {
      response = await fetch(`${this.host.url}/rpc`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.host.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ method, params: rest }),
        signal: signal as AbortSignal | undefined,
      });
    } catch (cause) {
      if ((signal as AbortSignal | undefined)?.aborted) throw cause;
      throw new BucketpipeError('STORE_UNAVAILABLE', `The process that holds the embedded store (pid ${this.host.pid}) does not answer; it may have stopped.`, { cause });
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status === 200) return body;
    let message = body.toString('utf8');
    try {
      message = (JSON.parse(message) as { message: string }).message;
    } catch {
      // a plain-text refusal
    }
    throw new Error(message);
  }
}

async function streamText(values: unknown): Promise<string> {
  if (typeof values === 'string') return values;
  let text = '';
  for await (const chunk of values as AsyncIterable<unknown>) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  return text;
}
