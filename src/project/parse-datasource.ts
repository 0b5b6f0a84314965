import { z } from 'zod';
import { indexDirectives, lexDatafile, type Directive } from './lexer.js';
import { parseSchemaBlock } from './schema-block.js';
import type { ColumnSpec, DatasourceSpec, EngineSpec, ImportSpec, ProjectProblem } from './types.js';

export interface ParsedDatasource {
  /** Present only when there is no problem. */
  spec?: DatasourceSpec;
  problems: ProjectProblem[];
  warnings: ProjectProblem[];
  /** `IMPORT_CONNECTION_NAME`, when well-formed, even if other settings have problems: lets the caller check it exists. */
  connection?: { name: string; line: number };
}

const ENGINE_KEY_DIRECTIVES = [
  'ENGINE_PARTITION_KEY',
  'ENGINE_SORTING_KEY',
  'ENGINE_PRIMARY_KEY',
  'ENGINE_TTL',
  'ENGINE_SETTINGS',
] as const;
const ENGINE_ARG_DIRECTIVES = ['ENGINE_VER', 'ENGINE_SIGN', 'ENGINE_IS_DELETED'] as const;
const IMPORT_DIRECTIVES = [
  'IMPORT_SERVICE',
  'IMPORT_CONNECTION_NAME',
  'IMPORT_BUCKET_URI',
  'IMPORT_SCHEDULE',
  'IMPORT_STRATEGY',
  'IMPORT_FORMAT',
  'IMPORT_MAX_FILES_PER_RUN',
] as const;
const KNOWN_DIRECTIVES: readonly string[] = [
  'DESCRIPTION',
  'TOKEN',
  'SCHEMA',
  'ENGINE',
  ...ENGINE_KEY_DIRECTIVES,
  ...ENGINE_ARG_DIRECTIVES,
  ...IMPORT_DIRECTIVES,
];
/** Tinybird files commonly grant several tokens. */
const REPEATABLE = new Set(['TOKEN']);

const BASE_ENGINES = [
  'MergeTree',
  'ReplacingMergeTree',
  'SummingMergeTree',
  'AggregatingMergeTree',
  'CollapsingMergeTree',
  'VersionedCollapsingMergeTree',
];
const ENGINES = new Map(
  [...BASE_ENGINES, ...BASE_ENGINES.map((e) => `Replicated${e}`)].map((e) => [e.toLowerCase(), e] as const),
);

/** Which engine families take each ENGINE_* argument. */
const ARG_USERS: Record<(typeof ENGINE_ARG_DIRECTIVES)[number], string[]> = {
  ENGINE_VER: ['ReplacingMergeTree', 'VersionedCollapsingMergeTree'],
  ENGINE_SIGN: ['CollapsingMergeTree', 'VersionedCollapsingMergeTree'],
  ENGINE_IS_DELETED: ['ReplacingMergeTree'],
};

const CONNECTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BUCKET = /^[a-z0-9.-]{3,63}$/;
const FORMATS: Record<string, 'csv' | 'ndjson' | 'parquet'> = {
  csv: 'csv',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  json: 'ndjson',
  parquet: 'parquet',
};
const q = JSON.stringify;

/** Values of single-line directives, keyed by directive name so issues map back to lines. */
const DatasourceValues = z.object({
  ENGINE: z
    .string()
    .transform((v, ctx) => {
      const engine = ENGINES.get(v.trim().toLowerCase());
      if (engine !== undefined) return engine;
      const hint = v.includes('(')
        ? 'write the engine name alone; its arguments go in ENGINE_VER, ENGINE_SIGN and ENGINE_IS_DELETED'
        : `use one of ${BASE_ENGINES.join(', ')}, or their Replicated variants`;
      ctx.addIssue({ code: 'custom', message: `ENGINE ${q(v)} is not supported: ${hint}` });
      return z.NEVER;
    })
    .optional(),
  IMPORT_SERVICE: z
    .string()
    .refine((v) => v.toLowerCase() === 's3', { error: (i) => `IMPORT_SERVICE ${q(i.input)} is not supported: write IMPORT_SERVICE s3` })
    .optional(),
  IMPORT_CONNECTION_NAME: z
    .string()
    .regex(CONNECTION_NAME, {
      error: (i) => `IMPORT_CONNECTION_NAME ${q(i.input)} is not a connection name: write the base name of a file in connections/, e.g. my_s3 for connections/my_s3.connection`,
    })
    .optional(),
  IMPORT_BUCKET_URI: z
    .string()
    .transform((v, ctx) => {
      const problem = bucketUriProblem(v);
      if (problem === undefined) return v;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    })
    .optional(),
  IMPORT_SCHEDULE: z
    .enum(['@auto', '@on-demand'], { error: (i) => `IMPORT_SCHEDULE ${q(i.input)} is not supported: use @auto (every minute) or @on-demand` })
    .optional(),
  IMPORT_STRATEGY: z
    .string()
    .refine((v) => v.toUpperCase() === 'APPEND', { error: (i) => `IMPORT_STRATEGY ${q(i.input)} is not supported: only APPEND is` })
    .transform(() => 'APPEND' as const)
    .optional(),
  IMPORT_FORMAT: z
    .string()
    .transform((v, ctx) => {
      const format = FORMATS[v.toLowerCase()];
      if (format !== undefined) return format;
      ctx.addIssue({
        code: 'custom',
        message: `IMPORT_FORMAT ${q(v)} is not supported: use csv, ndjson or parquet, or remove IMPORT_FORMAT to read the format from each key's extension`,
      });
      return z.NEVER;
    })
    .optional(),
  IMPORT_MAX_FILES_PER_RUN: z
    .string()
    .transform((v, ctx) => {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (n >= 1 && n <= 100_000) return n;
      ctx.addIssue({ code: 'custom', message: `IMPORT_MAX_FILES_PER_RUN must be a whole number from 1 to 100000, not ${q(v)}` });
      return z.NEVER;
    })
    .optional(),
});

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
    } else if (d.block !== undefined) {
      problem(d.line, `${d.name} takes a value on the same line, not a ">" block`);
    } else if (d.value.includes('{{')) {
      problem(d.line, `${d.name} cannot use a {{ }} template: write the value itself`);
    } else {
      values[d.name] = d.value;
    }
  }

  const parsed = DatasourceValues.safeParse(values);
  const invalid = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const directive = String(issue.path[0]);
      invalid.add(directive);
      problem(lineOf(directive) ?? 1, issue.message);
    }
  }
  // The fields are independent, so the valid ones still parse once the invalid ones are left out.
  const data = parsed.success
    ? parsed.data
    : DatasourceValues.parse(Object.fromEntries(Object.entries(values).filter(([key]) => !invalid.has(key))));

  const engine = invalid.has('ENGINE') ? undefined : buildEngine(data.ENGINE, byName, values, schema, file, problems);

  const importLines = IMPORT_DIRECTIVES.map(lineOf).filter((l): l is number => l !== undefined);
  const importLine = importLines.length > 0 ? Math.min(...importLines) : undefined;
  if (importLine !== undefined) {
    for (const required of ['IMPORT_CONNECTION_NAME', 'IMPORT_BUCKET_URI']) {
      if (!byName.has(required)) {
        problem(importLine, `${required} is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI`);
      }
    }
    const maxFilesLine = lineOf('IMPORT_MAX_FILES_PER_RUN');
    if (maxFilesLine !== undefined && data.IMPORT_SCHEDULE === '@on-demand') {
      warnings.push({
        location: at(maxFilesLine),
        message: 'IMPORT_MAX_FILES_PER_RUN has no effect with IMPORT_SCHEDULE @on-demand, which takes all new objects: remove it',
      });
    }
  }

  const connectionDirective = byName.get('IMPORT_CONNECTION_NAME');
  const connection =
    connectionDirective !== undefined && connectionDirective.block === undefined && CONNECTION_NAME.test(connectionDirective.value)
      ? { name: connectionDirective.value, line: connectionDirective.line }
      : undefined;

  const result: ParsedDatasource = { problems: problems.sort(byLine), warnings: warnings.sort(byLine) };
  if (connection !== undefined) result.connection = connection;
  if (problems.length > 0 || engine === undefined) return result;

  const spec: DatasourceSpec = { name, location: at(1), engine };
  if (description !== undefined) spec.description = description;
  if (schema !== undefined) spec.schema = schema;
  if (importLine !== undefined && data.IMPORT_CONNECTION_NAME !== undefined && data.IMPORT_BUCKET_URI !== undefined) {
    const importSpec: ImportSpec = {
      service: 's3',
      connectionName: data.IMPORT_CONNECTION_NAME,
      bucketUri: data.IMPORT_BUCKET_URI,
      schedule: data.IMPORT_SCHEDULE ?? '@auto',
      strategy: 'APPEND',
      maxFilesPerRun: data.IMPORT_MAX_FILES_PER_RUN ?? 5,
      location: at(importLine),
    };
    if (data.IMPORT_FORMAT !== undefined) importSpec.format = data.IMPORT_FORMAT;
    spec.import = importSpec;
  }
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

/** Builds the engine settings; reports missing or misplaced ENGINE_VER / ENGINE_SIGN / ENGINE_IS_DELETED. */
function buildEngine(
  engine: string | undefined,
  byName: Map<string, Directive>,
  values: Record<string, string>,
  schema: ColumnSpec[] | undefined,
  file: string,
  problems: ProjectProblem[],
): EngineSpec {
  const engineLines = ['ENGINE', ...ENGINE_KEY_DIRECTIVES, ...ENGINE_ARG_DIRECTIVES]
    .map((n) => byName.get(n)?.line)
    .filter((l): l is number => l !== undefined);
  const location = { file, line: byName.get('ENGINE')?.line ?? (engineLines.length > 0 ? Math.min(...engineLines) : 1) };

  const name = engine ?? 'MergeTree';
  const family = name.replace(/^Replicated/, '');
  const problem = (line: number, message: string): void => {
    problems.push({ location: { file, line }, message });
  };
  // An empty value means "not set", as Tinybird writes `ENGINE_PARTITION_KEY ""`.
  const valueOf = (directive: string): string | undefined => {
    const value = values[directive]?.trim();
    return value === '' ? undefined : value;
  };

  for (const directive of ENGINE_ARG_DIRECTIVES) {
    const line = byName.get(directive)?.line;
    const users = ARG_USERS[directive];
    if (line !== undefined && valueOf(directive) !== undefined && !users.includes(family)) {
      problem(line, `${directive} is only used by ${users.join(' and ')}, not by ${name}: remove it or change ENGINE`);
    }
  }
  const required = (directive: string): string | undefined => {
    const value = valueOf(directive);
    if (value === undefined) problem(location.line, `${name} needs ${directive}: set it to the name of a column`);
    return value;
  };
  const args: (string | undefined)[] = [];
  if (family === 'ReplacingMergeTree') {
    const ver = valueOf('ENGINE_VER');
    const isDeleted = valueOf('ENGINE_IS_DELETED');
    if (isDeleted !== undefined && ver === undefined) {
      problem(byName.get('ENGINE_IS_DELETED')?.line ?? location.line, 'ENGINE_IS_DELETED needs ENGINE_VER: set the version column too');
    }
    args.push(ver, isDeleted);
  } else if (family === 'CollapsingMergeTree') {
    args.push(required('ENGINE_SIGN'));
  } else if (family === 'VersionedCollapsingMergeTree') {
    args.push(required('ENGINE_SIGN'), required('ENGINE_VER'));
  }
  const engineArgs = args.filter((a): a is string => a !== undefined);

  if (schema !== undefined && schema.length > 0) {
    const columns = new Set(schema.map((c) => c.name));
    for (const directive of ENGINE_ARG_DIRECTIVES) {
      const value = valueOf(directive);
      const bare = value?.replace(/^`(.*)`$/, '$1');
      if (bare !== undefined && ARG_USERS[directive].includes(family) && !columns.has(bare)) {
        problem(byName.get(directive)?.line ?? location.line, `${directive} ${q(value)} is not a column of SCHEMA: name one of its columns`);
      }
    }
  }

  const spec: EngineSpec = { engine: name, engineArgs, location };
  const partitionKey = valueOf('ENGINE_PARTITION_KEY');
  const sortingKey = valueOf('ENGINE_SORTING_KEY');
  const primaryKey = valueOf('ENGINE_PRIMARY_KEY');
  const ttl = valueOf('ENGINE_TTL');
  const settings = valueOf('ENGINE_SETTINGS');
  if (partitionKey !== undefined) spec.partitionKey = partitionKey;
  if (sortingKey !== undefined) spec.sortingKey = sortingKey;
  if (primaryKey !== undefined) spec.primaryKey = primaryKey;
  if (ttl !== undefined) spec.ttl = ttl;
  if (settings !== undefined) spec.settings = settings;
  return spec;
}

function bucketUriProblem(uri: string): string | undefined {
  const example = 'e.g. s3://my-bucket/events/*.ndjson.gz';
  if (!uri.startsWith('s3://')) return `IMPORT_BUCKET_URI ${q(uri)} must start with s3://, ${example}`;
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket)) {
    return `the bucket ${q(bucket)} in IMPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens`;
  }
  if (slash === -1 || rest.slice(slash + 1) === '') {
    return `IMPORT_BUCKET_URI ${q(uri)} has no key or pattern after the bucket: add one, e.g. s3://${bucket}/**`;
  }
  return undefined;
}

function unknownDirectiveMessage(name: string): string {
  if (name.startsWith('EXPORT_')) return `unknown directive ${name}: EXPORT_* settings are not supported yet; remove it`;
  return `unknown directive ${name}: a datasource file may only set ${KNOWN_DIRECTIVES.join(', ')}`;
}
