import type { ChildProcess } from 'node:child_process';
import { spawnCli } from './cli.js';

/** A `bucketpipe worker` process with its log lines collected. */
export interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  /**
   * Resolves with the first log line that contains `text` (or matches it), among the lines from
   * index `from` on (default: all of them, those logged already included).
   */
  waitFor(text: string | RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Resolves once `count` log lines contain `text` (or match it), counting from line `from`. */
  waitForCount(text: string | RegExp, count: number, timeoutMs?: number, from?: number): Promise<void>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function spawnWorker(cwd: string, env: NodeJS.ProcessEnv, args: string[] = ['worker']): WorkerProcess {
  const child = spawnCli(args, { cwd, env: { BUCKETPIPE_LOG_LEVEL: 'debug', ...env } });
  const lines: string[] = [];
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  const matcher = (text: string | RegExp) => (line: string) => (typeof text === 'string' ? line.includes(text) : text.test(line));
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(text, timeoutMs = 60_000, from = 0) {
      const test = matcher(text);
      const seen = lines.slice(from).find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker never logged ${String(text)}; its log:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
    waitForCount(text, count, timeoutMs = 120_000, from = 0) {
      const test = matcher(text);
      let left = count - lines.slice(from).filter(test).length;
      if (left <= 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker logged fewer than ${count} lines matching ${String(text)}; its log:\n${lines.join('\n')}`)), timeoutMs);
        // A waiter is removed once it matched: each match registers the next, until the count is reached.
        const next = () => waiters.push({ test, resolve: () => (--left <= 0 ? (clearTimeout(timer), resolve()) : next()) });
        next();
      });
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
