import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import { listObjects, type ObjectRef } from '../../src/bucket/list-objects.js';
import { discoverObjects } from '../../src/importer/discover/discover.js';
import { readLedger } from '../../src/importer/discover/read-ledger.js';
import { recordObjects } from '../../src/importer/ledger-writes.js';
import { deriveImportId } from '../../src/importer/commit.js';
import { versionOf } from '../../src/store/versions.js';
import { ensureInternalTables } from '../../src/store/internal-tables.js';
import { BUCKET, DISCOVERY_PREFIX } from '../dataset.js';
import { benchDatasource, benchProject } from '../bench-project.js';
import { check, median, peakRss, timed, type Measurement } from '../measurement.js';

export interface DiscoveryArgs {
  endpoint: string;
  objects: number;
  /** Objects the ledger holds as imported before the measurement. */
  imported: number;
  reps: number;
}

/**
 * The discovery step of a run (read the ledger, list the prefix, sort objects into new / imported)
 * against a bare paginated ListObjectsV2 of the same prefix, alternating, `reps` times each.
 * `seconds` is discovery's median, `more.listing` the listing's.
 */
export async function measureDiscovery(args: DiscoveryArgs): Promise<Measurement> {
  const project = benchProject(args.endpoint, { disc: benchDatasource(`${DISCOVERY_PREFIX}*.csv`, [], '    `id` UInt32') });
  const app = await project.open();
  try {
    const store = await app.store();
    const ctx = await app.importContext('disc');
    const uri = parseBucketUri(ctx.datasource.import.bucketUri);
    await ensureInternalTables(store);
    const all: ObjectRef[] = [];
    for await (const page of listObjects(ctx.access, uri.bucket, uri.listPrefix)) all.push(...page);
    check(all.length === args.objects, `${all.length} objects listed, not ${args.objects}`);
    const seeded = all.slice(0, args.imported);
    // Seeded as if one run had imported them (fence 1).
    let sequence = 0;
    const versions = { nextVersion: () => versionOf(1, ++sequence) };
    for (let i = 0; i < seeded.length; i += 5000) {
      await recordObjects(
        store.client,
        versions,
        seeded.slice(i, i + 5000).map((object) => ({ object, datasource: 'disc', importId: deriveImportId('disc', 1, [object]), jobId: 'bench-seed', status: 'done' as const })),
      );
    }
    const listing: number[] = [];
    const discovery: number[] = [];
    for (let rep = 0; rep < args.reps; rep++) {
      listing.push(await timed(() => bareListing(ctx.access.client, uri.listPrefix, args.objects)));
      discovery.push(
        await timed(async () => {
          const found = await discoverObjects(ctx.access, uri, await readLedger(store.client, 'disc'));
          check(found.toImport.length === args.objects - args.imported, `${found.toImport.length} new objects found, not ${args.objects - args.imported}`);
          check(found.imported === args.imported, `${found.imported} imported objects recognised, not ${args.imported}`);
        }),
      );
    }
    return { seconds: median(discovery), count: args.objects, maxRssBytes: peakRss(), more: { listing: median(listing) } };
  } finally {
    await app.close();
    project.remove();
  }
}

/** ListObjectsV2, page after page, keeping nothing: the floor any discovery has to pay. */
async function bareListing(client: Parameters<typeof listObjects>[0]['client'], prefix: string, expected: number): Promise<void> {
  let token: string | undefined;
  let seen = 0;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    seen += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  check(seen === expected, `bare listing saw ${seen} objects, not ${expected}`);
}
