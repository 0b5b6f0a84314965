#!/usr/bin/env node
// Before `npm test`: the tests start private redis-server, clickhouse-server and ZooKeeper processes.
// On a machine that lacks one, install it from Debian's packages when we can (root with apt-get), or
// say how to get it; never fall through to a run that would fail later for a missing program.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (binary) => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
// Package → whether the machine has what the tests run of it.
const needed = {
  'redis-server': () => has('redis-server'),
  'clickhouse-server': () => has('clickhouse-server'),
  zookeeper: () => existsSync('/usr/share/java/zookeeper.jar') && has('java'),
};
const missing = Object.entries(needed).filter(([, present]) => !present()).map(([pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const canApt = process.getuid?.() === 0 && has('apt-get');
if (!canApt) {
  process.stderr.write(`The tests need ${missing.join(' and ')}. Install ${missing.length > 1 ? 'them' : 'it'} (for example: sudo apt-get install --no-install-recommends ${missing.join(' ')}) and run npm test again.\n`);
  process.exit(1);
}
process.stderr.write(`Installing ${missing.join(' and ')} for the tests (apt-get)...\n`);
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
