import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { collect } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (the Quick start main job)', () => {
  it('seeds a bucket, runs the first @auto runs and on-demand syncs through a worker, and prints what landed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: inject('redisUrl'), BUCKETPIPE_AUTO_INTERVAL_MS: '1500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child, 180_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('orders: ok, 5 objects, 100 rows, 2 quarantined');
    expect(result.stdout).toMatch(/│ orders\s+│\s+140 │/);
    expect(result.stdout).toMatch(/│ trips\s+│\s+3000 │/);
    expect(result.stdout).toMatch(/│ events\s+│\s+150 │/);
    expect(result.stdout).toContain('amount: value "n/a" is not a valid Float64');
    expect(result.stdout).toContain('columns_added');
    expect(result.stdout).toMatch(/s3:\/\/demo-bucket\/exports\/orders\/\d{4}-\d{2}-\d{2}\/orders-[a-z0-9-]+-part-00001\.parquet: 40 rows/);
  });
});
