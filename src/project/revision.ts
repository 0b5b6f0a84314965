import { createHash } from 'node:crypto';
import { BucketpipeError } from '../errors.js';
import { parseBucketUri, parseExportUri } from './bucket-uri.js';
import type { ConnectionSpec, DatasourceSpec, ExportSpec, ImportSpec, Project, SecretRef } from './types.js';

/**
 * A project as `push` applied it: the parsed definitions, as canonical JSON, named by their hash.
 * Workers run the revision pushed last, not the files they happen to have, so that a push reaches
 * every worker on every machine at its next job.
 *
 * Secret values never leave the machine: a literal secret (or a `tb_secret` default) is stored as a
 * digest, and a worker takes the value from its own connection file when the digests agree.
 *
 * Values derived from others (the parsed bucket URIs) are left out: they add nothing, and a project
 * keeps the id it had before they were carried.
 */
export interface ProjectRevision {
  /** 16 hex digits of the definitions' SHA-256. */
  id: string;
  /** The canonical JSON text. */
  text: string;
}

type StoredSecret = { kind: 'env'; variable: string; fallbackDigest?: string } | { kind: 'literal'; digest: string };
type StoredConnection = Omit<ConnectionSpec, 'accessKey' | 'secret' | 'sessionToken'> & Partial<Record<SecretField, StoredSecret>>;
const SECRET_FIELDS = ['accessKey', 'secret', 'sessionToken'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

type StoredDatasource = Omit<DatasourceSpec, 'import' | 'export'> & {
  import?: Omit<ImportSpec, 'uri'>;
  export?: Omit<ExportSpec, 'destination'>;
};

interface StoredProject {
  connections: StoredConnection[];
  datasources: StoredDatasource[];
}

export function projectRevision(project: Project): ProjectRevision {
  const stored: StoredProject = {
    connections: [...project.connections.values()].sort(byName).map(storedConnection),
    datasources: [...project.datasources.values()].sort(byName).map(storedDatasource),
  };
  const text = canonicalJson(stored);
  return { id: createHash('sha256').update(text).digest('hex').slice(0, 16), text };
}

/**
 * The project of a pushed revision, in `dir`. Secrets with a value in the revision (a literal or a
 * default) come from `local`, this machine's own files, when its digests agree.
 */
export function restoreProject(revision: ProjectRevision, dir: string, local?: Project): Project {
  const stored = JSON.parse(revision.text) as StoredProject;
  const connections = new Map<string, ConnectionSpec>();
  for (const connection of stored.connections) connections.set(connection.name, restoreConnection(connection, local?.connections.get(connection.name)));
  return { dir, connections, datasources: new Map(stored.datasources.map((d) => [d.name, restoreDatasource(d)])) };
}

function storedDatasource(spec: DatasourceSpec): StoredDatasource {
  const { import: importSpec, export: exportSpec, ...rest } = spec;
  const stored: StoredDatasource = rest;
  if (importSpec !== undefined) {
    const { uri: _derived, ...written } = importSpec;
    stored.import = written;
  }
  if (exportSpec !== undefined) {
    const { destination: _derived, ...written } = exportSpec;
    stored.export = written;
  }
  return stored;
}

function restoreDatasource(stored: StoredDatasource): DatasourceSpec {
  const { import: importSpec, export: exportSpec, ...rest } = stored;
  const spec: DatasourceSpec = rest;
  if (importSpec !== undefined) spec.import = { ...importSpec, uri: parseBucketUri(importSpec.bucketUri) };
  if (exportSpec !== undefined) spec.export = { ...exportSpec, destination: parseExportUri(exportSpec.bucketUri) };
  return spec;
}

function storedConnection(connection: ConnectionSpec): StoredConnection {
  const { accessKey, secret, sessionToken, ...rest } = connection;
  const refs: Record<SecretField, SecretRef | undefined> = { accessKey, secret, sessionToken };
  const stored: StoredConnection = { ...rest };
  for (const field of SECRET_FIELDS) {
    const ref = refs[field];
    if (ref) stored[field] = storedSecret(ref);
  }
  return stored;
}

function storedSecret(ref: SecretRef): StoredSecret {
  if (ref.kind === 'literal') return { kind: 'literal', digest: digest(ref.value) };
  return ref.fallback === undefined ? { kind: 'env', variable: ref.variable } : { kind: 'env', variable: ref.variable, fallbackDigest: digest(ref.fallback) };
}

function restoreConnection(stored: StoredConnection, local: ConnectionSpec | undefined): ConnectionSpec {
  const connection = { ...stored } as ConnectionSpec & Partial<Record<SecretField, SecretRef | StoredSecret>>;
  for (const field of SECRET_FIELDS) {
    const pushed = stored[field];
    if (!pushed) continue;
    if (pushed.kind === 'env' && pushed.fallbackDigest === undefined) {
      connection[field] = { kind: 'env', variable: pushed.variable };
      continue;
    }
    const own = local?.[field];
    if (!own || canonicalJson(storedSecret(own)) !== canonicalJson(pushed)) {
      throw new BucketpipeError(
        'NOT_PUSHED',
        `connection ${stored.name}: the pushed project holds a value for ${directiveOf(field)} (written literally, or as a default) that connections/${stored.name}.connection on this machine does not hold; ` +
          `put the same file here, or use {{ tb_secret("NAME") }} without a default and set NAME in the environment.`,
        { context: { connection: stored.name, file: stored.location.file, line: stored.location.line } },
      );
    }
    connection[field] = own;
  }
  return connection as ConnectionSpec;
}

function directiveOf(field: SecretField): string {
  return { accessKey: 'S3_ACCESS_KEY', secret: 'S3_SECRET', sessionToken: 'S3_SESSION_TOKEN' }[field];
}

function digest(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** JSON with object keys sorted and undefined values left out: the same definitions, the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
