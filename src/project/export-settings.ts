import { z } from 'zod';
import { FORMATS, exportFormat, type ExportFormat } from '../formats.js';
import { exportUriProblem, parseExportUri } from './bucket-uri.js';
import { exportSchedule } from './cron.js';
import { EXPORT_DIRECTIVES, firstLineOf } from './datasource-directives.js';
import { checked, choice, connectionName, flag, q, same, wholeNumber } from './directive-values.js';
import { DEFAULT_FILE_TEMPLATE, needsPartPlaceholder, repeatsAcrossRuns, validateTemplate } from './export-template.js';
import type { Directive } from './lexer.js';
import { sqlOutsideQuotes } from './sql-scanner.js';
import type { ExportSpec, ProjectProblem } from './types.js';

/** The EXPORT_* settings: how each is read, the checks between them, and their defaults. */

const EXPORT_FORMATS: ReadonlyMap<string, ExportFormat> = new Map(FORMATS.flatMap((f) => f.writtenNames.map((n) => [n, f.exportName] as const)));
const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;

export const EXPORT_VALUES = {
  EXPORT_CONNECTION_NAME: connectionName('EXPORT_CONNECTION_NAME'),
  EXPORT_BUCKET_URI: checked((v) => {
    const problem = exportUriProblem(v);
    if (problem !== undefined) return { problem };
    const written = v.endsWith('/') ? v : `${v}/`;
    return { value: { written, destination: parseExportUri(written) } };
  }),
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
  EXPORT_CSV_DELIMITER: checked(csvDelimiter),
  EXPORT_CSV_HEADER: flag('EXPORT_CSV_HEADER'),
  EXPORT_COLUMN_CASE: choice('EXPORT_COLUMN_CASE', same('upper', 'lower'), 'use upper or lower, or remove it to keep the column names as they are'),
  EXPORT_MAX_ROWS_PER_FILE: wholeNumber('EXPORT_MAX_ROWS_PER_FILE', 1_000_000_000, 'of rows'),
  EXPORT_QUERY: checked((v) => {
    const query = v.trim();
    const problem = exportQueryProblem(query);
    return problem === undefined ? { value: query } : { problem };
  }),
  EXPORT_SCHEDULE: checked((v) => {
    const schedule = exportSchedule(v);
    if (schedule !== undefined) return { value: schedule };
    return {
      problem: `EXPORT_SCHEDULE ${q(v)} is not a schedule: write @on-demand, @hourly, @daily, @weekly, @monthly, or a cron expression of 5 or 6 fields made of *, digits, ",", "-", "/" and month or day names, e.g. "0 * * * *" for every hour`,
    };
  }),
  EXPORT_STRATEGY: choice('EXPORT_STRATEGY', same('new', 'full'), 'use new (the rows imported since the last export) or full (every row)'),
  EXPORT_WRITE_EMPTY: flag('EXPORT_WRITE_EMPTY'),
  EXPORT_SSE: choice('EXPORT_SSE', same('AES256', 'aws:kms'), 'use AES256 or aws:kms'),
  EXPORT_SSE_KMS_KEY_ID: z
    .string()
    .regex(/^\S+$/, { error: (i) => `EXPORT_SSE_KMS_KEY_ID ${q(i.input)} is not a key id: write the id, ARN or alias of the KMS key, without spaces` })
    .optional(),
  EXPORT_ACL: choice('EXPORT_ACL', same(...CANNED_ACLS), `use one of the canned ACLs ${CANNED_ACLS.join(', ')}`),
  EXPORT_TEST_WRITE: flag('EXPORT_TEST_WRITE'),
};

type ExportValues = z.output<z.ZodObject<typeof EXPORT_VALUES>>;

/**
 * Checks the EXPORT_* settings against each other and fills in the defaults. Returns the export
 * settings when every EXPORT_* directive is valid (problems of other directives aside).
 */
export function buildExport(
  data: ExportValues,
  invalid: ReadonlySet<string>,
  byName: Map<string, Directive>,
  file: string,
  problems: ProjectProblem[],
  warnings: ProjectProblem[],
): ExportSpec | undefined {
  const lineOf = (directive: string): number | undefined => byName.get(directive)?.line;
  const exportLine = firstLineOf(byName, EXPORT_DIRECTIVES);
  if (exportLine === undefined) return undefined;
  const count = problems.length;
  const problem = (line: number, message: string): void => {
    problems.push({ location: { file, line }, message });
  };
  const warn = (line: number, message: string): void => {
    warnings.push({ location: { file, line }, message });
  };

  for (const required of ['EXPORT_CONNECTION_NAME', 'EXPORT_BUCKET_URI']) {
    if (!byName.has(required)) {
      problem(exportLine, `${required} is missing: the EXPORT_* settings need both EXPORT_CONNECTION_NAME and EXPORT_BUCKET_URI`);
    }
  }

  // Settings are only checked against a valid format; an invalid one has its own problem.
  const format = invalid.has('EXPORT_FORMAT') ? undefined : (data.EXPORT_FORMAT ?? 'csv');
  const compressionLine = lineOf('EXPORT_COMPRESSION');
  if (format !== undefined && exportFormat(format).compressesItself && data.EXPORT_COMPRESSION === 'gzip' && compressionLine !== undefined) {
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
    bucketUri: data.EXPORT_BUCKET_URI.written,
    destination: data.EXPORT_BUCKET_URI.destination,
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

/** The delimiter written after unquoting (`","`, `'|'`, `"\t"` for a tab), or what is wrong. */
function csvDelimiter(written: string): { value: string } | { problem: string } {
  let value = written;
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
  if (value === '\\t') value = '\t';
  const hint = 'write one character, e.g. "," or ";" or "|", or "\\t" for a tab';
  if (value.length !== 1) return { problem: `EXPORT_CSV_DELIMITER must be exactly one character, not ${q(written)}: ${hint}` };
  if (value === '"' || value === '\n' || value === '\r') {
    return { problem: `EXPORT_CSV_DELIMITER ${q(written)} cannot be a double quote or a line break, which CSV uses itself: ${hint}` };
  }
  if (value.charCodeAt(0) > 0x7e) return { problem: `EXPORT_CSV_DELIMITER ${q(written)} is not an ASCII character, which ClickHouse requires: ${hint}` };
  return { value };
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
