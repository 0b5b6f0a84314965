import { z } from 'zod';
import { indexDirectives, lexDatafile, type Directive } from './lexer.js';
import { DEFAULT_FILE_TEMPLATE, needsPartPlaceholder, repeatsAcrossRuns, validateTemplate } from './export-template.js';
import { parseSchemaBlock } from './schema-block.js';
import type { ColumnSpec, DatasourceSpec, EngineSpec, ExportFormat, ExportSpec, ImportSpec, ProjectProblem } from './types.js';

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
  'IMPORT_CSV_HEADER',
] as const;
const EXPORT_DIRECTIVES = [
  'EXPORT_CONNECTION_NAME',
  'EXPORT_BUCKET_URI',
  'EXPORT_FILE_TEMPLATE',
  'EXPORT_FORMAT',
  'EXPORT_COMPRESSION',
  'EXPORT_PARQUET_COMPRESSION',
  'EXPORT_PARQUET_ROW_GROUP_SIZE',
  'EXPORT_CSV_DELIMITER',
  'EXPORT_CSV_HEADER',
  'EXPORT_COLUMN_CASE',
  'EXPORT_MAX_ROWS_PER_FILE',
  'EXPORT_QUERY',
  'EXPORT_SCHEDULE',
  'EXPORT_STRATEGY',
  'EXPORT_WRITE_EMPTY',
  'EXPORT_SSE',
  'EXPORT_SSE_KMS_KEY_ID',
  'EXPORT_ACL',
  'EXPORT_TEST_WRITE',
] as const;
const KNOWN_DIRECTIVES: readonly string[] = [
  'DESCRIPTION',
  'TOKEN',
  'SCHEMA',
  'ENGINE',
  ...ENGINE_KEY_DIRECTIVES,
  ...ENGINE_ARG_DIRECTIVES,
  ...IMPORT_DIRECTIVES,
  ...EXPORT_DIRECTIVES,
];
/** Directives that may be written as a `>` block (besides DESCRIPTION and SCHEMA). */
const BLOCK_DIRECTIVES = new Set(['EXPORT_QUERY']);
/** Directives whose value may contain `{{ }}`, as placeholders of their own. */
const TEMPLATE_DIRECTIVES = new Set(['EXPORT_FILE_TEMPLATE']);
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
const EXPORT_FORMATS = new Map<string, ExportFormat>([
  ['csv', 'csv'],
  ['jsonl', 'jsonl'],
  ['ndjson', 'jsonl'],
  ['json', 'jsonl'],
  ['parquet', 'parquet'],
]);
const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;
const CRON_SHORTHANDS = new Map([
  ['@hourly', '0 * * * *'],
  ['@daily', '0 0 * * *'],
  ['@weekly', '0 0 * * 0'],
  ['@monthly', '0 0 1 * *'],
]);
const CRON_NAMES = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const q = JSON.stringify;

/** A case-insensitive choice among `choices` (lower-case written value → stored value). */
function choice<T extends string>(directive: string, choices: ReadonlyMap<string, T>, hint: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const value = choices.get(v.toLowerCase());
      if (value !== undefined) return value;
      ctx.addIssue({ code: 'custom', message: `${directive} ${q(v)} is not supported: ${hint}` });
      return z.NEVER;
    })
    .optional();
}

function same<T extends string>(...values: T[]): ReadonlyMap<string, T> {
  return new Map(values.map((v) => [v.toLowerCase(), v]));
}

function flag(directive: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const lower = v.toLowerCase();
      if (lower === 'true' || lower === 'false') return lower === 'true';
      ctx.addIssue({ code: 'custom', message: `${directive} must be true or false, not ${q(v)}` });
      return z.NEVER;
    })
    .optional();
}

function wholeNumber(directive: string, max: number, what: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (n >= 1 && n <= max) return n;
      ctx.addIssue({ code: 'custom', message: `${directive} must be a whole number ${what} from 1 to ${max}, not ${q(v)}` });
      return z.NEVER;
    })
    .optional();
}

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
  IMPORT_CSV_HEADER: flag('IMPORT_CSV_HEADER'),
  EXPORT_CONNECTION_NAME: z
    .string()
    .regex(CONNECTION_NAME, {
      error: (i) => `EXPORT_CONNECTION_NAME ${q(i.input)} is not a connection name: write the base name of a file in connections/, e.g. my_s3 for connections/my_s3.connection`,
    })
    .optional(),
  EXPORT_BUCKET_URI: z
    .string()
    .transform((v, ctx) => {
      const problem = exportBucketUriProblem(v);
      if (problem === undefined) return v.endsWith('/') ? v : `${v}/`;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    })
    .optional(),
  EXPORT_FILE_TEMPLATE: z
    .string()
    .transform((v, ctx) => {
      const shape = validateTemplate(v);
      const problems = shape.length > 0 ? shape : [repeatsAcrossRuns(v)].filter((p): p is string => p !== undefined);
      for (const problem of problems) ctx.addIssue({ code: 'custom', message: `EXPORT_FILE_TEMPLATE: ${problem}` });
      return problems.length === 0 ? v : z.NEVER;
    })
    .optional(),
  EXPORT_FORMAT: choice('EXPORT_FORMAT', EXPORT_FORMATS, 'use csv, jsonl (also written ndjson or json) or parquet'),
  EXPORT_COMPRESSION: choice('EXPORT_COMPRESSION', same('none', 'gzip'), 'use none or gzip'),
  EXPORT_PARQUET_COMPRESSION: choice('EXPORT_PARQUET_COMPRESSION', same('zstd', 'snappy', 'none'), 'use zstd, snappy or none'),
  EXPORT_PARQUET_ROW_GROUP_SIZE: wholeNumber('EXPORT_PARQUET_ROW_GROUP_SIZE', Number.MAX_SAFE_INTEGER, 'of rows'),
  EXPORT_CSV_DELIMITER: z
    .string()
    .transform((v, ctx) => {
      const delimiter = csvDelimiter(v);
      if (typeof delimiter === 'string') return delimiter;
      ctx.addIssue({ code: 'custom', message: delimiter.problem });
      return z.NEVER;
    })
    .optional(),
  EXPORT_CSV_HEADER: flag('EXPORT_CSV_HEADER'),
  EXPORT_COLUMN_CASE: choice('EXPORT_COLUMN_CASE', same('upper', 'lower'), 'use upper or lower, or remove it to keep the column names as they are'),
  EXPORT_MAX_ROWS_PER_FILE: wholeNumber('EXPORT_MAX_ROWS_PER_FILE', 1_000_000_000, 'of rows'),
  EXPORT_QUERY: z
    .string()
    .transform((v, ctx) => {
      const query = v.trim();
      const problem = exportQueryProblem(query);
      if (problem === undefined) return query;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    })
    .optional(),
  EXPORT_SCHEDULE: z
    .string()
    .transform((v, ctx) => {
      const schedule = exportSchedule(v);
      if (schedule !== undefined) return schedule;
      ctx.addIssue({
        code: 'custom',
        message: `EXPORT_SCHEDULE ${q(v)} is not a schedule: write @on-demand, @hourly, @daily, @weekly, @monthly, or a cron expression of 5 or 6 fields made of *, digits, ",", "-", "/" and month or day names, e.g. "0 * * * *" for every hour`,
      });
      return z.NEVER;
    })
    .optional(),
  EXPORT_STRATEGY: choice('EXPORT_STRATEGY', same('new', 'full'), 'use new (the rows imported since the last export) or full (every row)'),
  EXPORT_WRITE_EMPTY: flag('EXPORT_WRITE_EMPTY'),
  EXPORT_SSE: choice('EXPORT_SSE', same('AES256', 'aws:kms'), 'use AES256 or aws:kms'),
  EXPORT_SSE_KMS_KEY_ID: z
    .string()
    .regex(/^\S+$/, { error: (i) => `EXPORT_SSE_KMS_KEY_ID ${q(i.input)} is not a key id: write the id, ARN or alias of the KMS key, without spaces` })
    .optional(),
  EXPORT_ACL: choice('EXPORT_ACL', same(...CANNED_ACLS), `use one of the canned ACLs ${CANNED_ACLS.join(', ')}`),
  EXPORT_TEST_WRITE: flag('EXPORT_TEST_WRITE'),
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
    const csvHeaderLine = lineOf('IMPORT_CSV_HEADER');
    if (csvHeaderLine !== undefined && data.IMPORT_FORMAT !== undefined && data.IMPORT_FORMAT !== 'csv' && !invalid.has('IMPORT_CSV_HEADER')) {
      warnings.push({
        location: at(csvHeaderLine),
        message: `IMPORT_CSV_HEADER has no effect with IMPORT_FORMAT ${data.IMPORT_FORMAT}: remove it, or set IMPORT_FORMAT csv`,
      });
    }
  }

  const exportLines = EXPORT_DIRECTIVES.map(lineOf).filter((l): l is number => l !== undefined);
  const exportLine = exportLines.length > 0 ? Math.min(...exportLines) : undefined;
  const exportSpec = exportLine === undefined ? undefined : buildExport(data, invalid, byName, exportLine, file, problems, warnings);

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
    if (data.IMPORT_CSV_HEADER !== undefined) importSpec.csvHeader = data.IMPORT_CSV_HEADER;
    spec.import = importSpec;
  }
  if (exportSpec !== undefined) spec.export = exportSpec;
  result.spec = spec;
  return result;
}

type DatasourceData = z.output<typeof DatasourceValues>;

/**
 * Checks the EXPORT_* settings against each other and fills in the defaults. Returns the export
 * settings when every EXPORT_* directive is valid (problems of other directives aside).
 */
function buildExport(
  data: DatasourceData,
  invalid: ReadonlySet<string>,
  byName: Map<string, Directive>,
  exportLine: number,
  file: string,
  problems: ProjectProblem[],
  warnings: ProjectProblem[],
): ExportSpec | undefined {
  const count = problems.length;
  const problem = (line: number, message: string): void => {
    problems.push({ location: { file, line }, message });
  };
  const warn = (line: number, message: string): void => {
    warnings.push({ location: { file, line }, message });
  };
  const lineOf = (directive: string): number | undefined => byName.get(directive)?.line;

  for (const required of ['EXPORT_CONNECTION_NAME', 'EXPORT_BUCKET_URI']) {
    if (!byName.has(required)) {
      problem(exportLine, `${required} is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI`);
    }
  }

  // Settings are only checked against a valid format; an invalid one has its own problem.
  const format = invalid.has('EXPORT_FORMAT') ? undefined : (data.EXPORT_FORMAT ?? 'csv');
  const compressionLine = lineOf('EXPORT_COMPRESSION');
  if (format === 'parquet' && data.EXPORT_COMPRESSION === 'gzip' && compressionLine !== undefined) {
    problem(compressionLine, 'EXPORT_COMPRESSION gzip cannot be used with EXPORT_FORMAT parquet; parquet is compressed inside the file: use EXPORT_PARQUET_COMPRESSION');
  }
  if (format !== undefined && format !== 'parquet') {
    for (const directive of ['EXPORT_PARQUET_COMPRESSION', 'EXPORT_PARQUET_ROW_GROUP_SIZE']) {
      const line = lineOf(directive);
      if (line !== undefined && !invalid.has(directive)) {
        warn(line, `${directive} has no effect with EXPORT_FORMAT ${format}: remove it, or set EXPORT_FORMAT parquet`);
      }
    }
  }
  if (format !== undefined && format !== 'csv') {
    for (const directive of ['EXPORT_CSV_DELIMITER', 'EXPORT_CSV_HEADER']) {
      const line = lineOf(directive);
      if (line !== undefined && !invalid.has(directive)) {
        warn(line, `${directive} has no effect with EXPORT_FORMAT ${format}: remove it, or set EXPORT_FORMAT csv`);
      }
    }
  }

  const sseLine = lineOf('EXPORT_SSE');
  const kmsLine = lineOf('EXPORT_SSE_KMS_KEY_ID');
  if (!invalid.has('EXPORT_SSE')) {
    if (data.EXPORT_SSE === 'aws:kms' && kmsLine === undefined && sseLine !== undefined) {
      problem(sseLine, 'EXPORT_SSE aws:kms needs EXPORT_SSE_KMS_KEY_ID: set it to the id, ARN or alias of the KMS key');
    }
    if (data.EXPORT_SSE !== 'aws:kms' && kmsLine !== undefined) {
      problem(kmsLine, 'EXPORT_SSE_KMS_KEY_ID is only used with EXPORT_SSE aws:kms: add EXPORT_SSE aws:kms, or remove EXPORT_SSE_KMS_KEY_ID');
    }
  }

  const fileTemplate = data.EXPORT_FILE_TEMPLATE ?? DEFAULT_FILE_TEMPLATE;
  const templateLine = lineOf('EXPORT_FILE_TEMPLATE');
  if (templateLine !== undefined && data.EXPORT_MAX_ROWS_PER_FILE !== undefined && needsPartPlaceholder(fileTemplate)) {
    warn(
      templateLine,
      'EXPORT_FILE_TEMPLATE has neither {{PART}} nor {{UUID}}, so a run that writes several files (EXPORT_MAX_ROWS_PER_FILE) would give them the same key and fails: add {{PART}}, e.g. -part-{{PART}} before the extension',
    );
  }

  const exportValid = EXPORT_DIRECTIVES.every((d) => !invalid.has(d));
  if (problems.length > count || !exportValid || data.EXPORT_CONNECTION_NAME === undefined || data.EXPORT_BUCKET_URI === undefined) {
    return undefined;
  }
  const spec: ExportSpec = {
    connectionName: data.EXPORT_CONNECTION_NAME,
    bucketUri: data.EXPORT_BUCKET_URI,
    fileTemplate,
    format: data.EXPORT_FORMAT ?? 'csv',
    compression: data.EXPORT_COMPRESSION ?? 'none',
    parquetCompression: data.EXPORT_PARQUET_COMPRESSION ?? 'zstd',
    csvDelimiter: data.EXPORT_CSV_DELIMITER ?? ',',
    csvHeader: data.EXPORT_CSV_HEADER ?? true,
    schedule: data.EXPORT_SCHEDULE ?? '@on-demand',
    strategy: data.EXPORT_STRATEGY ?? 'new',
    writeEmpty: data.EXPORT_WRITE_EMPTY ?? false,
    testWrite: data.EXPORT_TEST_WRITE ?? true,
    location: { file, line: exportLine },
  };
  if (data.EXPORT_PARQUET_ROW_GROUP_SIZE !== undefined) spec.parquetRowGroupSize = data.EXPORT_PARQUET_ROW_GROUP_SIZE;
  if (data.EXPORT_COLUMN_CASE !== undefined) spec.columnCase = data.EXPORT_COLUMN_CASE;
  if (data.EXPORT_MAX_ROWS_PER_FILE !== undefined) spec.maxRowsPerFile = data.EXPORT_MAX_ROWS_PER_FILE;
  if (data.EXPORT_QUERY !== undefined) spec.query = data.EXPORT_QUERY;
  if (data.EXPORT_SSE !== undefined) spec.sse = data.EXPORT_SSE;
  if (data.EXPORT_SSE_KMS_KEY_ID !== undefined) spec.sseKmsKeyId = data.EXPORT_SSE_KMS_KEY_ID;
  if (data.EXPORT_ACL !== undefined) spec.acl = data.EXPORT_ACL;
  return spec;
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

/** `s3://bucket/prefix/`: the folder exported files are written under; no glob. */
function exportBucketUriProblem(uri: string): string | undefined {
  const example = 'e.g. s3://my-bucket/exports/';
  if (!uri.startsWith('s3://')) return `EXPORT_BUCKET_URI ${q(uri)} must start with s3://, ${example}`;
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket)) {
    return `the bucket ${q(bucket)} in EXPORT_BUCKET_URI is not a bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens`;
  }
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  const glob = /[*?{}[\]]/.exec(prefix);
  if (glob !== null) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains the pattern character ${q(glob[0])}: write the folder the files go to, without patterns, ${example}`;
  }
  if (prefix.startsWith('/') || prefix.includes('//')) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains "//", an empty folder name: write a single "/"`;
  }
  if (prefix.split('/').includes('..')) return `EXPORT_BUCKET_URI ${q(uri)} has ".." as a folder: S3 keys have no parent folder, so remove it`;
  if (/[\u0000-\u001f\u007f\\]/.test(prefix)) {
    return `EXPORT_BUCKET_URI ${q(uri)} contains a control character or a backslash: separate folders with "/"`;
  }
  return undefined;
}

/** The delimiter written after unquoting (`","`, `'|'`, `"\t"` for a tab), or what is wrong. */
function csvDelimiter(written: string): string | { problem: string } {
  let value = written;
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
  if (value === '\\t') value = '\t';
  const hint = 'write one character, e.g. "," or ";" or "|", or "\\t" for a tab';
  if (value.length !== 1) return { problem: `EXPORT_CSV_DELIMITER must be exactly one character, not ${q(written)}: ${hint}` };
  if (value === '"' || value === '\n' || value === '\r') {
    return { problem: `EXPORT_CSV_DELIMITER ${q(written)} cannot be a double quote or a line break, which CSV uses itself: ${hint}` };
  }
  if (value.charCodeAt(0) > 0x7e) return { problem: `EXPORT_CSV_DELIMITER ${q(written)} is not an ASCII character, which ClickHouse requires: ${hint}` };
  return value;
}

/** Light checks of EXPORT_QUERY: one SELECT, without FORMAT (the export chooses it). */
function exportQueryProblem(query: string): string | undefined {
  if (query === '') return 'EXPORT_QUERY is empty: write a SELECT, or remove EXPORT_QUERY to export every column of the table';
  if (!/^(select|with)\b/i.test(query)) {
    return `EXPORT_QUERY must be a query starting with SELECT or WITH, not ${q(query.length > 40 ? `${query.slice(0, 40)}…` : query)}`;
  }
  const bare = sqlOutsideQuotes(query);
  if (bare.includes(';')) return 'EXPORT_QUERY contains ";": write a single query, without ";"';
  if (/\bFORMAT\s+(?!(?:ASC|DESC|COLLATE)\b)[A-Za-z_][A-Za-z0-9_]*\s*(\bSETTINGS\b[\s\S]*)?$/i.test(bare)) {
    return 'EXPORT_QUERY has a FORMAT clause: remove it, the format is set by EXPORT_FORMAT';
  }
  return undefined;
}

/** The SQL with the contents of quotes, identifiers in quotes and comments blanked out. */
function sqlOutsideQuotes(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j += 1;
      }
      out += ' '.repeat(Math.min(j + 1, sql.length) - i);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += ' '.repeat(stop - i);
      i = stop;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** `@on-demand`, a shorthand as its cron equivalent, or a cron expression with its fields single-spaced. */
function exportSchedule(written: string): string | undefined {
  const lower = written.toLowerCase();
  if (lower === '@on-demand') return '@on-demand';
  const shorthand = CRON_SHORTHANDS.get(lower);
  if (shorthand !== undefined) return shorthand;
  const fields = written.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return undefined;
  const item = /^(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/[0-9]+)?$/;
  for (const field of fields) {
    for (const part of field.split(',')) {
      if (!item.test(part)) return undefined;
      for (const word of part.match(/[A-Za-z]+/g) ?? []) {
        if (!CRON_NAMES.has(word.toLowerCase())) return undefined;
      }
    }
  }
  return fields.join(' ');
}

function unknownDirectiveMessage(name: string): string {
  if (name.startsWith('EXPORT_')) return `unknown directive ${name}: the EXPORT_* settings are ${EXPORT_DIRECTIVES.join(', ')}`;
  return `unknown directive ${name}: a datasource file may only set ${KNOWN_DIRECTIVES.join(', ')}`;
}
