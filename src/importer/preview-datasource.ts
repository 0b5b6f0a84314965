import { objectUri } from '../bucket/bucket-uri.js';
import { ensureInternalTables } from '../store/internal-tables.js';
import { loadableColumns, readTableColumns } from '../store/table-ddl.js';
import { ambiguousHeaderNote, headerRule, type HeaderRule } from './probe/csv-header.js';
import { datasourceRecord } from './schema/datasource-tables.js';
import { discoverObjects } from './discover/discover.js';
import { referenceObject } from './discover/reference-object.js';
import type { ImportContext } from './import-context.js';
import { inferObjectColumns } from './schema/inferred-columns.js';
import { readLedger } from './discover/read-ledger.js';

/** What `datasource preview` reports: the objects that match a datasource, and the schema it has or would have. */
export interface DatasourcePreview {
  datasource: string;
  bucketUri: string;
  /** Objects that match the URI; each is new, imported, changed or failed. */
  matched: number;
  imported: number;
  /** Not imported yet, oldest first. */
  new: Array<{ uri: string; size: number; lastModified: string }>;
  /** Imported keys that came back with another ETag (not imported again). */
  changed: string[];
  /** Objects whose import failed before. */
  failed: string[];
  /** Where `schema` comes from: the table, the SCHEMA of the file, or the reference object. */
  schemaSource: string;
  schema: Array<{ name: string; type: string }>;
  /** How the first row of each CSV object is read, as a sentence. */
  csvHeader: string;
}

/**
 * Sorts the objects under a datasource's URI against its ledger and finds its schema: the table's
 * when pushed, else the SCHEMA of its file, else the one inferred from the oldest new object. Reads
 * only; nothing is imported.
 */
export async function previewDatasource(ctx: ImportContext): Promise<DatasourcePreview> {
  const name = ctx.datasource.name;
  await ensureInternalTables(ctx.store);
  const uri = ctx.datasource.import.uri;
  const ledger = await readLedger(ctx.store.client, name);
  const discovery = await discoverObjects(ctx.access, uri, ledger);
  const table = await readTableColumns(ctx.store.client, name);
  let schema: Array<{ name: string; type: string }>;
  let schemaSource: string;
  let csvHeader = describeHeaderRule(headerRule(ctx.datasource));
  const reference = referenceObject(discovery.toImport);
  if (table) {
    schema = loadableColumns(table).map((c) => ({ name: c.name, type: c.type }));
    const record = await datasourceRecord(ctx.store.client, name);
    schemaSource = `table ${name}${record.reference ? ` (inferred from ${record.reference})` : ''}`;
    csvHeader = describeHeaderRule(headerRule(ctx.datasource, { columns: schema.map((c) => c.name), csvHeader: record.csvHeader }));
  } else if (ctx.datasource.schema) {
    schema = ctx.datasource.schema.map((c) => ({ name: c.name, type: c.type }));
    schemaSource = `SCHEMA of ${ctx.datasource.location.file}`;
  } else if (reference) {
    const where = objectUri(reference.bucket, reference.key);
    const { layout, columns } = await inferObjectColumns(ctx, reference, { csvHeader: headerRule(ctx.datasource) });
    schema = columns;
    schemaSource = `inferred from ${where}`;
    if (layout.csv) csvHeader = layout.ambiguousHeader ? `${ambiguousHeaderNote(where, layout.ambiguousHeader, name)}.` : `${layout.csv.hasHeader ? 'a header' : 'data'}, as ${where} shows.`;
  } else {
    schema = [];
    schemaSource = 'no object to infer from yet';
  }
  return {
    datasource: name,
    bucketUri: ctx.datasource.import.bucketUri,
    matched: discovery.matched,
    imported: discovery.imported,
    new: discovery.toImport.map((o) => ({ uri: objectUri(o.bucket, o.key), size: o.size, lastModified: o.lastModified.toISOString() })),
    changed: [...discovery.changed, ...discovery.changedBefore].map((o) => objectUri(o.bucket, o.key)),
    failed: discovery.failed.map((o) => objectUri(o.bucket, o.key)),
    schemaSource,
    schema,
    csvHeader,
  };
}

/** How the first row of a datasource's CSV objects is read, as a sentence. */
function describeHeaderRule(rule: HeaderRule): string {
  if (rule.kind === 'decided') return rule.hasHeader ? 'a header.' : 'data.';
  if (rule.kind === 'names') return 'a header when it names columns of the SCHEMA, else data.';
  return 'decided on the reference object.';
}
