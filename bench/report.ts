import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';

export interface LargeImportRow {
  format: string;
  bytes: number;
  rows: number;
  nativeSeconds: number;
  bucketpipeSeconds: number;
  naiveSeconds?: number;
  /** Median of each run's native time / bucketpipe time, with the native run next to it. */
  vsNative: number;
  vsNaive?: number;
  /** Runs of bucketpipe and of native (the naive loader may have fewer). */
  runs: number;
  maxRssBytes: number;
}

/** bucketpipe's import into a server against the engine alone sending the same object to it. */
export interface ServerImportRow {
  format: string;
  rows: number;
  nativeSeconds: number;
  bucketpipeSeconds: number;
  vsNative: number;
  runs: number;
  maxRssBytes: number;
}

/** bucketpipe's import into a cluster of one shard and two replicas against the same import into a single server. */
export interface ClusterImportRow {
  format: string;
  rows: number;
  singleSeconds: number;
  clusterSeconds: number;
  /** Median of each run's single-server time / cluster time, with the single-server run next to it. */
  vsSingle: number;
  runs: number;
  maxRssBytes: number;
}

export interface BenchResults {
  date: string;
  rows: number;
  reps: number;
  large: LargeImportRow[];
  small?: { files: number; rowsPerFile: number; seconds: number; maxRssBytes: number };
  discovery?: { objects: number; imported: number; discoverySeconds: number; listingSeconds: number };
  exports?: Array<{ format: string; rows: number; seconds: number; engineSeconds: number; maxRssBytes: number }>;
  memory?: Array<{ format: string; scale: number; baseRssBytes: number; bigRssBytes: number }>;
  /** A ClickHouse server as the store; `rowFormat` is `probe` unless BENCH_ROW_FORMAT chose one. */
  server?: {
    version: string;
    rowFormat: string;
    imports: ServerImportRow[];
    exports: Array<{ format: string; rows: number; seconds: number; engineSeconds: number; maxRssBytes: number }>;
  };
  /** A replicated cluster (ZooKeeper, two nodes of the same server) as the store. */
  cluster?: { version: string; imports: ClusterImportRow[] };
}

const TARGETS = {
  vsNative: 0.8,
  vsNaive: 4,
  objectsPerSecond: 20,
  discoveryOverhead: 1.5,
  exportVsEngine: 0.8,
  rssBytes: 2 ** 30,
  rssGrowth: 1.2,
  clusterVsSingle: 0.7,
};

/** The results as Markdown: machine, tables, and each target met or missed. */
export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  const ratio = (x: number) => `${x.toFixed(2)}×`;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const chdb = (createRequire(import.meta.url)('chdb/package.json') as { version: string }).version;
  out.push('# Benchmark results', '');
  out.push(`- Date: ${r.date.slice(0, 10)}`);
  out.push(`- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${mib(totalmem())} memory`);
  out.push(`- Node ${process.versions.node}, chdb ${chdb}; S3: s3rver on loopback`);
  out.push(`- Large files: ${r.rows.toLocaleString('en')} rows; every time is the median of ${r.reps} or more runs, each in a fresh process`);
  out.push('');
  if (r.large.length > 0) {
    out.push('## Import, large files', '');
    out.push('| file | size | native | bucketpipe | naive (JS parse) | bucketpipe rows/s | bucketpipe MB/s | bucketpipe / native | bucketpipe / naive | peak RSS |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const row of r.large) {
      const { vsNative, vsNaive } = row;
      out.push(
        `| ${row.format} | ${(row.bytes / 1e6).toFixed(0)} MB | ${s(row.nativeSeconds)} | ${s(row.bucketpipeSeconds)} | ${row.naiveSeconds === undefined ? 'n/a' : s(row.naiveSeconds)} | ` +
          `${Math.round(row.rows / row.bucketpipeSeconds).toLocaleString('en')} | ${(row.bytes / 1e6 / row.bucketpipeSeconds).toFixed(1)} | ` +
          `${ratio(vsNative)} (${verdict(vsNative >= TARGETS.vsNative)}) | ${vsNaive === undefined ? 'n/a' : `${ratio(vsNaive)} (${verdict(vsNaive >= TARGETS.vsNaive)})`} | ${mib(row.maxRssBytes)} |`,
      );
    }
    out.push(
      '',
      `Times are medians of ${r.large.map((row) => row.runs).join('/')} runs (the naive loader: ${r.reps}). A ratio is the median of each run's ratio (the baseline's ` +
        `time / bucketpipe's time) against the baseline run next to it, in alternating order. Targets: ≥ ${TARGETS.vsNative}× native, ≥ ${TARGETS.vsNaive}× naive.`,
      '',
    );
  }
  if (r.small) {
    const perSecond = r.small.files / r.small.seconds;
    out.push('## Import, many small files', '');
    out.push('| objects | rows each | time | objects/s | peak RSS | target ≥ 20 objects/s |', '|---|---|---|---|---|---|');
    out.push(`| ${r.small.files} | ${r.small.rowsPerFile} | ${s(r.small.seconds)} | ${perSecond.toFixed(1)} | ${mib(r.small.maxRssBytes)} | ${verdict(perSecond >= TARGETS.objectsPerSecond)} |`, '');
  }
  if (r.discovery) {
    const overhead = r.discovery.discoverySeconds / r.discovery.listingSeconds;
    out.push('## Discovery at scale', '');
    out.push('| objects | already imported | bare ListObjectsV2 | discovery (ledger + listing + sort) | overhead | target ≤ 1.5× |', '|---|---|---|---|---|---|');
    out.push(
      `| ${r.discovery.objects.toLocaleString('en')} | ${r.discovery.imported.toLocaleString('en')} | ${s(r.discovery.listingSeconds)} | ${s(r.discovery.discoverySeconds)} | ${ratio(overhead)} | ${verdict(overhead <= TARGETS.discoveryOverhead)} |`,
      '',
    );
  }
  if (r.exports) {
    out.push('## Export', '');
    out.push('| format | rows | engine INSERT INTO FUNCTION s3 | bucketpipe export | bucketpipe / engine | target ≥ 0.8× | peak RSS (import + export) |', '|---|---|---|---|---|---|---|');
    for (const e of r.exports) {
      const vs = e.engineSeconds / e.seconds;
      out.push(`| ${e.format} | ${e.rows.toLocaleString('en')} | ${s(e.engineSeconds)} | ${s(e.seconds)} | ${ratio(vs)} | ${verdict(vs >= TARGETS.exportVsEngine)} | ${mib(e.maxRssBytes)} |`);
    }
    out.push('');
  }
  if (r.memory) {
    out.push('## Memory: peak RSS of the importing process', '');
    out.push('| file | 1× | 3× | 3× / 1× | target < 1 GiB and ≤ 1.2× |', '|---|---|---|---|---|');
    for (const m of r.memory) {
      const growth = m.bigRssBytes / m.baseRssBytes;
      const ok = m.bigRssBytes < TARGETS.rssBytes && m.baseRssBytes < TARGETS.rssBytes && growth <= TARGETS.rssGrowth;
      out.push(`| ${m.format} | ${mib(m.baseRssBytes)} | ${mib(m.bigRssBytes)} | ${ratio(growth)} | ${verdict(ok)} |`);
    }
    out.push('');
  }
  if (r.server) {
    out.push(`## Server: ClickHouse ${r.server.version} as the store (rows between the engine and the server: ${r.server.rowFormat === 'probe' ? "the probe's choice" : r.server.rowFormat})`, '');
    out.push('| file | rows | engine → server, one statement | bucketpipe | bucketpipe / engine | peak RSS |', '|---|---|---|---|---|---|');
    for (const row of r.server.imports) {
      out.push(`| ${row.format} | ${row.rows.toLocaleString('en')} | ${s(row.nativeSeconds)} | ${s(row.bucketpipeSeconds)} | ${ratio(row.vsNative)} | ${mib(row.maxRssBytes)} |`);
    }
    out.push('', '| export | rows | server → engine → bucket, one statement | bucketpipe export | bucketpipe / engine | peak RSS (import + export) |', '|---|---|---|---|---|---|');
    for (const e of r.server.exports) {
      out.push(`| ${e.format} | ${e.rows.toLocaleString('en')} | ${s(e.engineSeconds)} | ${s(e.seconds)} | ${ratio(e.engineSeconds / e.seconds)} | ${mib(e.maxRssBytes)} |`);
    }
    out.push(
      '',
      "The import baseline streams the engine's `SELECT … FROM s3(…)` into the server's `INSERT … FORMAT Native`; the export baseline is the " +
        "engine's `INSERT INTO FUNCTION s3(…) SELECT * FROM url(<server query> FORMAT Native)`. Import ratios are paired as above.",
      '',
    );
  }
  if (r.cluster) {
    out.push(`## Cluster: ClickHouse ${r.cluster.version}, one shard of two replicas (ZooKeeper 3.8, on this machine)`, '');
    out.push('| file | rows | single server | cluster | cluster / single | target ≥ 0.7× | peak RSS | target < 1 GiB |', '|---|---|---|---|---|---|---|---|');
    for (const row of r.cluster.imports) {
      out.push(
        `| ${row.format} | ${row.rows.toLocaleString('en')} | ${s(row.singleSeconds)} | ${s(row.clusterSeconds)} | ${ratio(row.vsSingle)} | ${verdict(row.vsSingle >= TARGETS.clusterVsSingle)} | ${mib(row.maxRssBytes)} | ${verdict(row.maxRssBytes < TARGETS.rssBytes)} |`,
      );
    }
    out.push(
      '',
      '`datasource sync` of the same object into a database of a single server and into a database of the cluster (every table replicated, ' +
        'the rows written through one node and copied to the other by the servers), paired and alternating; both servers and ZooKeeper share this machine.',
      '',
    );
  }
  return out.join('\n');
}
