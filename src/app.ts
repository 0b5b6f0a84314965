import { resolve } from 'node:path';
import { createBucketAccess, type BucketAccess } from './bucket/s3-client.js';
import { BucketpipeError } from './errors.js';
import { resolveEngineCredentials, type ImportContext } from './importer/import-context.js';
import { formatProblem, loadProject } from './project/load-project.js';
import type { ConnectionSpec, DatasourceSpec, ExportSpec, ImportSpec, Project, ProjectProblem } from './project/types.js';
import type { ExportContext } from './exporter/export-context.js';
import { createStore, storeSettingsFromEnv, type Store } from './store/create-store.js';
import { silentLogger, type Logger } from './log.js';
import { openLocalEngine, type LocalEngine } from './store/local-engine.js';
import { projectId } from './project/project-id.js';
import { projectRevision, restoreProject } from './project/revision.js';
import { ensureInternalTables } from './store/internal-tables.js';
import { currentRevisionId, readRevision } from './store/revision-records.js';
import { testFaultFromEnv } from './importer/test-fault.js';
import { loadTarget } from './importer/load-target.js';
import { isSharded } from './store/cluster-layout.js';

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
  /** The bucket client of a connection of `project` (default: the files). */
  bucketAccess(connectionName: string, project?: Project): BucketAccess;
  datasource(name: string): DatasourceSpec;
  importContext(datasourceName: string): Promise<ImportContext>;
  /** The same for a datasource that is not (yet) a file of the project, e.g. for `datasource generate`. */
  importContextFor(spec: DatasourceSpec, project?: Project): Promise<ImportContext>;
  /**
   * The project runs use: the revision pushed last, whatever the files here say (they may be older,
   * or newer and not pushed yet); the files themselves before the first push.
   */
  runProject(): Promise<RunProject>;
  /** The contexts of a run, from runProject. */
  runImportContext(datasourceName: string): Promise<ImportContext>;
  runExportContext(datasourceName: string): Promise<ExportContext>;
  close(): Promise<void>;
}

/** The project a run uses, and the pushed revision it comes from (none before the first push). */
export interface RunProject {
  project: Project;
  revision?: string;
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
  // The pushed revision last restored, and the local revision it was last compared with.
  let pushed: { id: string; project: Project } | undefined;
  let comparedLocal: string | undefined;

  const exportContextOf = async (spec: DatasourceSpec, project: Project, asPushed: string): Promise<ExportContext> => {
    if (!spec.export) {
      throw new BucketpipeError('NO_EXPORT', `datasource ${spec.name} has no EXPORT_* settings in ${spec.location.file}${asPushed}; there is nothing to export.`, { context: { datasource: spec.name } });
    }
    const opened = await app.store();
    if (opened.kind === 'server') localEngine ??= openLocalEngine();
    return {
      store: opened,
      datasource: spec as DatasourceSpec & { export: ExportSpec },
      access: app.bucketAccess(spec.export.connectionName, project),
      log: app.log.child({ datasource: spec.name, kind: 'export' }),
      engine: localEngine?.client ?? opened.client,
      staging: localEngine,
    };
  };

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
    bucketAccess(connectionName, project = app.project) {
      const spec = connection(project, connectionName);
      // Keyed by the definition too: the pushed revision and the files may define it differently.
      const key = JSON.stringify(spec);
      let access = accesses.get(key);
      if (!access) {
        access = createBucketAccess(spec, env);
        accesses.set(key, access);
      }
      return access;
    },
    datasource(name) {
      return datasourceOf(app.project, name, `${projectDir}/datasources`);
    },
    importContext(name) {
      return app.importContextFor(app.datasource(name));
    },
    async runProject() {
      const store = await app.store();
      await ensureInternalTables(store);
      const project = projectId(projectDir, env);
      const id = await currentRevisionId(store.client, project);
      if (id === undefined) return { project: app.project };
      if (pushed?.id !== id) {
        const revision = await readRevision(store.client, project, id);
        pushed = { id, project: restoreProject(revision!, projectDir, app.project) };
      }
      // The files as they are now (a long-running worker's may have been edited since it started).
      const files = await loadProject(projectDir).catch(() => undefined);
      const local = files && files.errors.length === 0 ? projectRevision(files.project).id : 'unreadable';
      if (local !== id && comparedLocal !== `${local}:${id}`) {
        app.log.warn({ pushed: id, files: local }, 'the project files here differ from the revision pushed last; runs use the pushed revision (bucketpipe push applies the files)');
      }
      comparedLocal = `${local}:${id}`;
      return { project: pushed.project, revision: id };
    },
    async runImportContext(name) {
      const { project, revision } = await app.runProject();
      return app.importContextFor(datasourceOf(project, name, revision ? `the pushed project (revision ${revision})` : `${projectDir}/datasources`), project);
    },
    async runExportContext(name) {
      const { project, revision } = await app.runProject();
      const spec = datasourceOf(project, name, revision ? `the pushed project (revision ${revision})` : `${projectDir}/datasources`);
      return exportContextOf(spec, project, revision ? ' as pushed (bucketpipe push applies the files)' : '');
    },
    async importContextFor(spec, project = app.project) {
      const name = spec.name;
      if (!spec.import) {
        throw new BucketpipeError('NO_IMPORT', `datasource ${name} has no IMPORT_* settings in ${spec.location.file}; there is nothing to sync.`, { context: { datasource: name } });
      }
      const access = app.bucketAccess(spec.import.connectionName, project);
      const credentials = await resolveEngineCredentials(access, spec.import.uri.bucket);
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
        target: loadTarget(name, localEngine, { datesAfter2105: opened.capabilities.datesAfter2105, sharded: isSharded(opened.cluster) }),
        batchObjects: batchObjectsFromEnv(env),
        testFault: testFaultFromEnv(env),
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

function datasourceOf(project: Project, name: string, where: string): DatasourceSpec {
  const spec = project.datasources.get(name);
  if (!spec) {
    const known = [...project.datasources.keys()].join(', ') || 'none';
    throw new BucketpipeError('DATASOURCE_NOT_FOUND', `There is no datasource ${name} in ${where} (known: ${known}).`, { context: { datasource: name } });
  }
  return spec;
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
