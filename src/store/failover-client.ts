import type { ClickHouseClient } from '@clickhouse/client';

/**
 * One client over several nodes of a cluster (`BUCKETPIPE_CLICKHOUSE_URL` listing more than one).
 * Every call goes to the node in use; when a call cannot reach it (the connection is refused, or
 * breaks off), the next node is used from then on. A read is tried again on the next node at once,
 * since reading twice changes nothing. Anything else that broke off fails as it would have on one
 * node: it may have reached the server, and the exactly-once protocol (a later run undoes an
 * attempt left `loading`) decides what happens to it, not a blind retry here.
 */
export function failoverClient(nodes: readonly ClickHouseClient[], onSwitch: (index: number) => void = () => {}): ClickHouseClient {
  if (nodes.length === 1) return nodes[0]!;
  let current = 0;
  const advance = (from: number) => {
    // Another call may have moved on already.
    if (current === from) {
      current = (from + 1) % nodes.length;
      onSwitch(current);
    }
  };
  const call = async (method: keyof ClickHouseClient, params: unknown, retry: boolean) => {
    for (let tried = 0; ; tried++) {
      const used = current;
      try {
        return await (nodes[used]![method] as (p: unknown) => Promise<unknown>).call(nodes[used], params);
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        advance(used);
        if (!retry || tried + 1 >= nodes.length) throw error;
      }
    }
  };
  const pinged = async () => {
    for (let tried = 0; tried < nodes.length; tried++) {
      const used = current;
      const result = await nodes[used]!.ping();
      if (result.success) return result;
      advance(used);
    }
    return nodes[current]!.ping();
  };
  const client = {
    query: (params: unknown) => call('query', params, true),
    command: (params: unknown) => call('command', params, false),
    exec: (params: unknown) => call('exec', params, false),
    insert: (params: unknown) => call('insert', params, false),
    ping: pinged,
    close: async () => {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
  return client as unknown as ClickHouseClient;
}

/** Errors of a node that cannot be reached or went away mid-call; a server's own error is not one. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /socket hang up|other side closed|ECONNREFUSED|ECONNRESET/i.test(message);
}

const UNREACHABLE: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
