import { BLOCK_DIRECTIVES, KNOWN_DIRECTIVES, REPEATABLE, TEMPLATE_DIRECTIVES, unknownDirectiveMessage } from './datasource-directives.js';
import { validateValues } from './datasource-schema.js';
import { CONNECTION_NAME } from './directive-values.js';
import { buildEngine } from './engine-settings.js';
import { buildExport } from './export-settings.js';
import { buildImport } from './import-settings.js';
import { indexDirectives, lexDatafile, type Directive } from './lexer.js';
import { parseSchemaBlock } from './schema-block.js';
import type { ColumnSpec, DatasourceSpec, ProjectProblem } from './types.js';

export interface ParsedDatasource {
  /** Present only when there is no problem. */
  spec?: DatasourceSpec;
  problems: ProjectProblem[];
  warnings: ProjectProblem[];
  /** `IMPORT_CONNECTION_NAME`, when well-formed, even if other settings have problems: lets the caller check it exists. */
  connection?: { name: string; line: number };
  /** `EXPORT_CONNECTION_NAME`, likewise. */
  exportConnection?: { name: string; line: number };
}

/**
 * Parses `datasources/NAME.datasource`. Collects every problem of the file, each at the line of
 * the directive (or column) it is about.
 */
export function parseDatasource(text: string, file: string, name: string): ParsedDatasource {
  const lexed = lexDatafile(text, file);
  const problems: ProjectProblem[] = [...lexed.problems];
  const warnings: ProjectProblem[] = [];
  const at = (line: number) => ({ file, line });
  const problem = (line: number, message: string): void => {
    problems.push({ location: at(line), message });
  };

  const known = lexed.directives.filter((d) => {
    if (KNOWN_DIRECTIVES.includes(d.name)) return true;
    problem(d.line, unknownDirectiveMessage(d.name));
    return false;
  });
  const indexed = indexDirectives(known, file, REPEATABLE);
  problems.push(...indexed.problems);
  const byName = indexed.byName;
  const lineOf = (directive: string): number | undefined => byName.get(directive)?.line;

  let description: string | undefined;
  let schema: ColumnSpec[] | undefined;
  const values: Record<string, string> = {};
  for (const d of byName.values()) {
    if (d.name === 'TOKEN') continue;
    if (d.name === 'DESCRIPTION') {
      description = (d.block === undefined ? d.value : d.block.map((l) => l.text).join('\n')).trim() || undefined;
    } else if (d.name === 'SCHEMA') {
      schema = parseSchemaDirective(d, file, problems);
    } else if (d.block !== undefined && !BLOCK_DIRECTIVES.has(d.name)) {
      problem(d.line, `${d.name} takes a value on the same line, not a ">" block`);
    } else {
      const value = d.block === undefined ? d.value : d.block.map((l) => l.text).join('\n');
      if (value.includes('{{') && !TEMPLATE_DIRECTIVES.has(d.name)) {
        problem(d.line, `${d.name} cannot use a {{ }} template: write the value itself`);
      } else if (d.commentCut && TEMPLATE_DIRECTIVES.has(d.name)) {
        // A key may hold "#"; whether " #…" on this line is a comment or part of the key cannot be told.
        problem(
          d.line,
          `${d.name}: the "#" after a space on this line starts a comment, so the key would end before it; to keep "#" in the key, write the whole value in double quotes ("…#…"), and put a comment on a line of its own`,
        );
      } else {
        values[d.name] = value;
      }
    }
  }

  const { data, invalid, issues } = validateValues(values);
  for (const issue of issues) problem(lineOf(issue.directive) ?? 1, issue.message);

  const engine = invalid.has('ENGINE') ? undefined : buildEngine(data.ENGINE, byName, values, schema, file, problems);
  const importSpec = buildImport(data, invalid, byName, file, problems, warnings);
  const exportSpec = buildExport(data, invalid, byName, file, problems, warnings);

  const connectionOf = (directive: string): { name: string; line: number } | undefined => {
    const d = byName.get(directive);
    return d !== undefined && d.block === undefined && CONNECTION_NAME.test(d.value) ? { name: d.value, line: d.line } : undefined;
  };
  const connection = connectionOf('IMPORT_CONNECTION_NAME');
  const exportConnection = connectionOf('EXPORT_CONNECTION_NAME');

  const result: ParsedDatasource = { problems: problems.sort(byLine), warnings: warnings.sort(byLine) };
  if (connection !== undefined) result.connection = connection;
  if (exportConnection !== undefined) result.exportConnection = exportConnection;
  if (problems.length > 0 || engine === undefined) return result;

  const spec: DatasourceSpec = { name, location: at(1), engine };
  if (description !== undefined) spec.description = description;
  if (schema !== undefined) spec.schema = schema;
  if (importSpec !== undefined) spec.import = importSpec;
  if (exportSpec !== undefined) spec.export = exportSpec;
  result.spec = spec;
  return result;
}

function byLine(a: ProjectProblem, b: ProjectProblem): number {
  return a.location.line - b.location.line;
}

function parseSchemaDirective(d: Directive, file: string, problems: ProjectProblem[]): ColumnSpec[] | undefined {
  if (d.block === undefined) {
    problems.push({
      location: { file, line: d.line },
      message: 'SCHEMA must be a block: write SCHEMA > and put the columns on the indented lines below it',
    });
    return undefined;
  }
  if (d.block.every((l) => l.text.trim() === '')) {
    problems.push({
      location: { file, line: d.line },
      message: 'SCHEMA > has no columns: list them on the indented lines below it, or remove SCHEMA to infer them',
    });
    return undefined;
  }
  const result = parseSchemaBlock(d.block, file);
  problems.push(...result.problems);
  return result.columns;
}
