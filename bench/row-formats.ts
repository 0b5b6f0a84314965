/**
 * `node --import tsx bench/row-formats.ts`: how fast typed rows travel between the worker's engine and
 * a private ClickHouse server (the machine's clickhouse-server) in each row format, both ways, through
 * bucketpipe's own ship and read (src/store/server-rows.ts). Settings: BENCH_ROWS (1000000),
 * BENCH_REPS (3). Each figure is the median of the runs; formats alternate within a run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalClickHouse } from '../scripts/local-clickhouse.js';
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';
import { createStore } from '../src/store/create-store.js';
import { openLocalEngine } from '../src/store/local-engine.js';
import { runStatement, selectRows } from '../src/store/queries.js';
import type { RowFormat } from '../src/store/server-capabilities.js';
import { readFromServer, shipToServer } from '../src/store/server-rows.js';
import { median, timed } from './measurement.js';

quietNodeVersionNotice();
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const reps = Number(process.env.BENCH_REPS ?? 3);
const FORMATS: readonly RowFormat[] = ['TabSeparated', 'Native', 'RowBinary'];
const COLUMNS = [
  ['id', 'Int64', 'toInt64(number) - 500000'],
  ['name', 'String', "concat('user_', toString(cityHash64(number) % 50000), if(number % 10 = 0, '\\t\\n\\\\', ''))"],
  ['note', 'Nullable(String)', "if(number % 3 = 0, NULL, concat('n', toString(number)))"],
  ['amount', 'Float64', 'number / 7'],
  ['day', 'Date', "toDate('2020-01-01') + number % 3000"],
  ['at', 'DateTime', "toDateTime('2020-01-01 00:00:00') + number * 17"],
  ['price', 'Decimal(18, 4)', 'toDecimal64(number / 1000, 4)'],
  ['tags', 'Array(String)', "[toString(number % 5), 'x']"],
  ['country', 'LowCardinality(String)', "['DE','FR','US','GB','ES'][1 + number % 5]"],
] as const;
const ddl = COLUMNS.map(([n, t]) => `\`${n}\` ${t}`).join(', ');
const names = COLUMNS.map(([n]) => n);

const clickhouse = await startLocalClickHouse();
const dataDir = mkdtempSync(join(tmpdir(), 'bucketpipe-row-formats-'));
const store = await createStore({ clickhouseUrl: clickhouse.url, dataDir });
const engine = openLocalEngine();
try {
  await runStatement(engine.client, `CREATE TABLE src (${ddl}) ENGINE = MergeTree ORDER BY id`);
  await runStatement(engine.client, `INSERT INTO src SELECT ${COLUMNS.map(([, , e]) => e).join(', ')} FROM numbers(${rows})`);
  const times = new Map(FORMATS.map((f) => [f, { ship: [] as number[], read: [] as number[] }]));
  for (let rep = 0; rep < reps; rep++) {
    for (const format of rep % 2 === 0 ? FORMATS : [...FORMATS].reverse()) {
      const server = { ...store, capabilities: { ...store.capabilities, rowFormat: format } };
      await store.client.command({ query: 'DROP TABLE IF EXISTS dst' });
      await store.client.command({ query: `CREATE TABLE dst (${ddl}) ENGINE = MergeTree ORDER BY id`, clickhouse_settings: { allow_experimental_low_cardinality_type: 1 } as Record<string, number> });
      times.get(format)!.ship.push(await timed(() => shipToServer(server, engine, { from: 'src', to: 'dst', columns: names })));
      const [n] = await selectRows<{ n: string }>(store.client, 'SELECT count() AS n FROM dst');
      if (Number(n!.n) !== rows) throw new Error(`${format}: the server holds ${n!.n} rows, not ${rows}`);
      times.get(format)!.read.push(await timed(() => readFromServer(server, engine, { sql: 'SELECT * FROM dst', settings: {} }, 'back')));
      const [m] = await selectRows<{ n: string }>(engine.client, 'SELECT count() AS n FROM back');
      if (Number(m!.n) !== rows) throw new Error(`${format}: the engine read back ${m!.n} rows, not ${rows}`);
    }
  }
  process.stdout.write(`| format | engine → server (${rows.toLocaleString('en')} rows) | server → engine |\n|---|---|---|\n`);
  for (const [format, t] of times) process.stdout.write(`| ${format} | ${median(t.ship).toFixed(2)} s | ${median(t.read).toFixed(2)} s |\n`);
} finally {
  await engine.close();
  await store.close();
  await clickhouse.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
