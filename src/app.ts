import { resolve } from 'node:path';
import { parseBucketUri } from './bucket/bucket-uri.js';
import { createBucketAccess, type BucketAccess } from './bucket/s3-client.js';
import { BucketpipeError } from './errors.js';
import { resolveEngineCredentials, type ImportContext } from './importer/import-context.js';
import { formatProblem, loadProject } from './project/load-project.js';
import type { ConnectionSpec, DatasourceSpec, ExportSpec, ImportSpec, Project, ProjectProblem } from './project/types.js';
import type { ExportContext } from './exporter/export-context.js';
import { createStore, storeSettingsFromEnv, type Store } from './store/create-store.js';
import { silentLogger, type Logger } from './log.js';
import { openLocalEngine, type LocalEngine } from './store/local-engine.js';

/**
 * The composition root: a validated project, plus the store and bucket clients built from settings
 * on first use. The CLI and the worker build one App and pass it on.
 */
export interface App {
  projectDir: string;
  /** The project as last loaded; `reload()` replaces it. */
  project: Project;
  warnings: ProjectProblem[];
  /** Reads the project files again; on problems the previous project stays and the error is thrown. */
  reload(): Promise<void>;
  env: NodeJS.ProcessEnv;
  log: Logger;
  store(): Promise<Store>;
  bucketAccess(connectionName: string): BucketAccess;
  datasource(name: string): DatasourceSpec;
  importContext(datasourceName: string): Promise<ImportContext>;
  exportContext(datasourceName: string): Promise<ExportContext>;
  /** The same for a datasource that is not (yet) a file of the project, e.g. for `datasource generate`. */
  importContextFor(spec: DatasourceSpec): Promise<ImportContext>;
  close(): Promise<void>;
}

export interface AppOptions {
  projectDir: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** How long this process will hold the embedded store; see createStore. Default `cli`. */
  role?: 'worker' | 'dev' | 'cli';
}

/** Loads and validates the project; every problem of every file is reported at once. */
export async function openApp(options: AppOptions): Promise<App> {
  const projectDir = resolve(options.projectDir);
  const env = options.env ?? process.env;
  const loaded = await loadValidProject(projectDir);
  let store: Promise<Store> | undefined;
  let opened: Store | undefined;
  let localEngine: LocalEngine | undefined;
  const accesses = new Map<string, BucketAccess>();

  const app: App = {
    projectDir,
    project: loaded.project,
    warnings: loaded.warnings,
    async reload() {
      const again = await loadValidProject(projectDir);
      app.project = again.project;
      app.warnings = again.warnings;
      accesses.clear();
    },
    env,
    log: options.log ?? silentLogger,
    store() {
      // A store served by another process that has stopped is opened again (this process may take
      // it over), so the job's retries find a working store.
      if (opened?.gone?.()) {
        void opened.close().catch(() => undefined);
        store = opened = undefined;
      }
      store ??= createStore({ ...storeSettingsFromEnv(projectDir, env), role: options.role }).then((s) => (opened = s));
      return store;
    },
    bucketAccess(connectionName) {
      let access = accesses.get(connectionName);
      if (!access) {
        access = createBucketAccess(connection(app.project, connectionName), env);
        accesses.set(connectionName, access);
      }
      return access;
    },
    datasource(name) {
      const spec = app.project.datasources.get(name);
      if (!spec) {
        const known = [...app.project.datasources.keys()].join(', ') || 'none';
        throw new BucketpipeError('DATASOURCE_NOT_FOUND', `There is no datasource ${name} in ${projectDir}/datasources (known: ${known}).`, { context: { datasource: name } });
      }
      return spec;
    },
    importContext(name) {
      return app.importContextFor(app.datasource(name));
    },
    async exportContext(name) {
      const spec = app.datasource(name);
      if (!spec.export) {
        throw new BucketpipeError('NO_EXPORT', `datasource ${name} has no EXPORT_* settings in ${spec.location.file}; there is nothing to export.`, { context: { datasource: name } });
      }
      const opened = await app.store();
      if (opened.kind === 'server') localEngine ??= openLocalEngine();
      return {
        store: opened,
        datasource: spec as DatasourceSpec & { export: ExportSpec },
        access: app.bucketAccess(spec.export.connectionName),
        log: app.log.child({ datasource: name, kind: 'export' }),
        engine: localEngine?.client ?? opened.client,
        staging: localEngine,
      };
    },
    async importContextFor(spec) {
      const name = spec.name;
      if (!spec.import) {
        throw new BucketpipeError('NO_IMPORT', `datasource ${name} has no IMPORT_* settings in ${spec.location.file}; there is nothing to sync.`, { context: { datasource: name } });
      }
      const access = app.bucketAccess(spec.import.connectionName);
      const credentials = await resolveEngineCredentials(access, parseBucketUri(spec.import.bucketUri).bucket);
      const opened = await app.store();
      // With a server as the store, objects are read and split by this process's own engine.
      if (opened.kind === 'server') localEngine ??= openLocalEngine();
      return {
        store: opened,
        datasource: spec as DatasourceSpec & { import: ImportSpec },
        access,
        credentials,
        log: app.log.child({ datasource: name }),
        engine: localEngine?.client ?? opened.client,
        staging: localEngine,
        batchObjects: batchObjectsFromEnv(env),
      };
    },
    async close() {
      for (const access of accesses.values()) access.client.destroy();
      await localEngine?.close();
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
  return app;
}

async function loadValidProject(projectDir: string): Promise<{ project: Project; warnings: ProjectProblem[] }> {
  const loaded = await loadProject(projectDir);
  if (loaded.errors.length > 0) {
    const lines = loaded.errors.map(formatProblem);
    throw new BucketpipeError('PROJECT_INVALID', `The project has ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
  }
  return loaded;
}

function connection(project: Project, name: string): ConnectionSpec {
  const spec = project.connections.get(name);
  if (!spec) {
    throw new BucketpipeError('CONNECTION_NOT_FOUND', `There is no connection ${name} in connections/.`, { context: { connection: name } });
  }
  return spec;
}

/** `BUCKETPIPE_IMPORT_BATCH_OBJECTS`: how many small objects one statement may load (1 = one at a time). */
function batchObjectsFromEnv(env: NodeJS.ProcessEnv): number {
  const value = Number(env.BUCKETPIPE_IMPORT_BATCH_OBJECTS ?? 100);
  return Number.isInteger(value) && value >= 1 ? value : 100;
}
