import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './local-redis.js';

/** A private ZooKeeper (Debian's `zookeeper` package, run with the machine's Java) on a free loopback port. */
export interface LocalZooKeeper {
  port: number;
  stop(): Promise<void>;
}

/** The jars of Debian's `zookeeper` package and what it needs to run as a server. */
const JARS = ['zookeeper', 'zookeeper-jute', 'log4j-1.2', 'slf4j-api', 'slf4j-log4j12', 'netty-all', 'metrics-core', 'snappy-java', 'commons-cli'].map((name) => `/usr/share/java/${name}.jar`);

/**
 * Starts ZooKeeper standalone with a config of its own under a temp folder: no systemd, nothing under
 * /etc. Short ticks, so that a killed server's sessions expire quickly in tests.
 */
export async function startLocalZooKeeper(): Promise<LocalZooKeeper> {
  const missing = JARS.filter((jar) => !existsSync(jar));
  if (missing.length > 0) throw new Error(`ZooKeeper is not installed (missing ${missing.join(', ')}): apt-get install zookeeper`);
  const dir = mkdtempSync(join(tmpdir(), 'bucketpipe-zookeeper-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      'tickTime=500',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'forceSync=no',
      'maxSessionTimeout=30000',
      '',
    ].join('\n'),
  );
  const child = spawn('java', ['-Xmx256m', '-cp', JARS.join(':'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(dir, 'zoo.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null) throw new Error(`ZooKeeper exited with ${child.exitCode}: ${output.slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ZooKeeper did not answer on port ${port}: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    stop: async () => {
      stopChild(child);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ZooKeeper's `ruok` four-letter word: `imok` once it serves. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    // A server still starting may take the connection and not answer yet: ask again.
    socket.setTimeout(1000, () => socket.destroy());
    let reply = '';
    socket.on('connect', () => socket.write('ruok'));
    socket.on('data', (c: Buffer) => (reply += c.toString()));
    socket.on('close', () => resolve(reply === 'imok'));
    socket.on('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
