import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConnection } from './parse-connection.js';
import { parseDatasource } from './parse-datasource.js';
import type { ConnectionSpec, DatasourceSpec, LoadedProject, ProjectProblem } from './types.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_PREFIX = /^_(bp|bucketpipe)/i;
const QUARANTINE_SUFFIX = /_quarantine$/i;

interface ProjectFile {
  /** Relative to the project folder, with forward slashes. */
  file: string;
  name: string;
  text: string;
}

/**
 * Reads `connections/*.connection` and `datasources/*.datasource` under `dir` and validates them,
 * each on its own and against each other. Every problem of every file is reported.
 */
export async function loadProject(dir: string): Promise<LoadedProject> {
  const root = path.resolve(dir);
  const errors: ProjectProblem[] = [];
  const warnings: ProjectProblem[] = [];
  const connectionFiles = await readFolder(root, 'connections', '.connection', errors, warnings);
  const datasourceFiles = await readFolder(root, 'datasources', '.datasource', errors, warnings);

  const connections = new Map<string, ConnectionSpec>();
  checkNames(connectionFiles, 'connection', errors);
  for (const f of connectionFiles) {
    const parsed = parseConnection(f.text, f.file, f.name);
    errors.push(...parsed.problems);
    warnings.push(...parsed.warnings);
    if (parsed.spec !== undefined && NAME.test(f.name)) connections.set(f.name, parsed.spec);
  }

  // A connection file with problems still exists: datasources naming it get no second error.
  const connectionNames = connectionFiles.map((f) => f.name);
  const datasources = new Map<string, DatasourceSpec>();
  checkNames(datasourceFiles, 'datasource', errors);
  for (const f of datasourceFiles) {
    const parsed = parseDatasource(f.text, f.file, f.name);
    errors.push(...parsed.problems);
    warnings.push(...parsed.warnings);
    for (const [directive, connection] of [
      ['IMPORT_CONNECTION_NAME', parsed.connection],
      ['EXPORT_CONNECTION_NAME', parsed.exportConnection],
    ] as const) {
      if (connection !== undefined && !connectionNames.includes(connection.name)) {
        errors.push({
          location: { file: f.file, line: connection.line },
          message: unknownConnectionMessage(directive, connection.name, connectionNames),
        });
      }
    }
    if (parsed.spec !== undefined && NAME.test(f.name)) datasources.set(f.name, parsed.spec);
  }

  return { project: { dir: root, connections, datasources }, errors: sortProblems(errors), warnings: sortProblems(warnings) };
}

/** `datasources/x.datasource:12: message`. */
export function formatProblem(p: ProjectProblem): string {
  return `${p.location.file}:${p.location.line}: ${p.message}`;
}

async function readFolder(
  root: string,
  folder: string,
  extension: string,
  errors: ProjectProblem[],
  warnings: ProjectProblem[],
): Promise<ProjectFile[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, folder), { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    errors.push({ location: { file: folder, line: 1 }, message: `cannot read the folder ${folder}: ${errorMessage(error)}` });
    return [];
  }
  const files: ProjectFile[] = [];
  const misplaced = extension === '.connection' ? '.datasource' : '.connection';
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = `${folder}/${entry.name}`;
    if (!entry.isFile()) continue;
    if (entry.name.endsWith(misplaced)) {
      warnings.push({ location: { file, line: 1 }, message: `this file is ignored: ${misplaced} files belong in ${misplaced.slice(1)}s/` });
      continue;
    }
    if (!entry.name.endsWith(extension)) continue;
    try {
      const text = await readFile(path.join(root, folder, entry.name), 'utf8');
      files.push({ file, name: entry.name.slice(0, -extension.length), text });
    } catch (error) {
      errors.push({ location: { file, line: 1 }, message: `cannot read the file: ${errorMessage(error)}` });
    }
  }
  return files;
}

/** Names become table names (datasources) and references (connections), so they must be plain identifiers. */
function checkNames(files: readonly ProjectFile[], kind: 'connection' | 'datasource', errors: ProjectProblem[]): void {
  const byLowerCase = new Map<string, string>();
  for (const { file, name } of files) {
    const problem = (message: string): void => {
      errors.push({ location: { file, line: 1 }, message });
    };
    if (!NAME.test(name)) {
      problem(
        `the ${kind} name ${JSON.stringify(name)} (the file name) is not usable: rename the file to letters, digits and underscores, not starting with a digit`,
      );
      continue;
    }
    if (RESERVED_PREFIX.test(name)) {
      problem(`the ${kind} name ${JSON.stringify(name)} starts with a prefix reserved for bucketpipe (_bp, _bucketpipe): rename the file`);
    }
    if (kind === 'datasource' && QUARANTINE_SUFFIX.test(name)) {
      problem(`the datasource name ${JSON.stringify(name)} ends with _quarantine, which is reserved for quarantine tables: rename the file`);
    }
    const other = byLowerCase.get(name.toLowerCase());
    if (other !== undefined) {
      problem(`the ${kind} name ${JSON.stringify(name)} differs from ${JSON.stringify(other)} only by case: rename one of the two files`);
    } else {
      byLowerCase.set(name.toLowerCase(), name);
    }
  }
}

function unknownConnectionMessage(directive: string, name: string, known: readonly string[]): string {
  const base = `${directive} ${JSON.stringify(name)} names no connection`;
  if (known.length === 0) return `${base}: there are no connections; add connections/${name}.connection`;
  const sameCase = known.find((k) => k.toLowerCase() === name.toLowerCase());
  const hint = sameCase !== undefined ? ` (did you mean ${sameCase}?)` : '';
  return `${base}${hint}: use one of ${known.join(', ')}, or add connections/${name}.connection`;
}

function sortProblems(problems: ProjectProblem[]): ProjectProblem[] {
  return [...problems].sort(
    (a, b) => (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : a.location.line - b.location.line),
  );
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
