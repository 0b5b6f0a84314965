import { z } from 'zod';
import { formatNamed } from '../formats.js';
import { importUriProblem, parseBucketUri } from './bucket-uri.js';
import { IMPORT_DIRECTIVES, firstLineOf } from './datasource-directives.js';
import { checked, connectionName, flag, q, wholeNumber } from './directive-values.js';
import type { Directive } from './lexer.js';
import type { ImportSpec, ProjectProblem } from './types.js';

/** The IMPORT_* settings: how each is read, the checks between them, and their defaults. */

/** `IMPORT_MAX_FILES_PER_RUN` when the file does not set it. */
export const DEFAULT_MAX_FILES_PER_RUN = 5;

export const IMPORT_VALUES = {
  IMPORT_SERVICE: z
    .string()
    .refine((v) => v.toLowerCase() === 's3', { error: (i) => `IMPORT_SERVICE ${q(i.input)} is not supported: write IMPORT_SERVICE s3` })
    .optional(),
  IMPORT_CONNECTION_NAME: connectionName('IMPORT_CONNECTION_NAME'),
  IMPORT_BUCKET_URI: checked((v) => {
    const problem = importUriProblem(v);
    return problem === undefined ? { value: { written: v, uri: parseBucketUri(v) } } : { problem };
  }),
  IMPORT_SCHEDULE: z
    .enum(['@auto', '@on-demand'], { error: (i) => `IMPORT_SCHEDULE ${q(i.input)} is not supported: use @auto (every minute) or @on-demand` })
    .optional(),
  IMPORT_STRATEGY: z
    .string()
    .refine((v) => v.toUpperCase() === 'APPEND', { error: (i) => `IMPORT_STRATEGY ${q(i.input)} is not supported: only APPEND is` })
    .transform(() => 'APPEND' as const)
    .optional(),
  IMPORT_FORMAT: checked((v) => {
    const format = formatNamed(v);
    if (format !== undefined) return { value: format.importName };
    return {
      problem: `IMPORT_FORMAT ${q(v)} is not supported: use csv, ndjson or parquet, or remove IMPORT_FORMAT to read the format from each key's extension`,
    };
  }),
  IMPORT_MAX_FILES_PER_RUN: wholeNumber('IMPORT_MAX_FILES_PER_RUN', 100_000),
  IMPORT_CSV_HEADER: flag('IMPORT_CSV_HEADER'),
};

type ImportValues = z.output<z.ZodObject<typeof IMPORT_VALUES>>;

/**
 * Checks the IMPORT_* settings against each other and fills in the defaults. Returns the import
 * settings when the file has any and the required ones are valid (problems of others aside).
 */
export function buildImport(
  data: ImportValues,
  invalid: ReadonlySet<string>,
  byName: Map<string, Directive>,
  file: string,
  problems: ProjectProblem[],
  warnings: ProjectProblem[],
): ImportSpec | undefined {
  const lineOf = (directive: string): number | undefined => byName.get(directive)?.line;
  const importLine = firstLineOf(byName, IMPORT_DIRECTIVES);
  if (importLine === undefined) return undefined;
  const at = (line: number) => ({ file, line });

  for (const required of ['IMPORT_CONNECTION_NAME', 'IMPORT_BUCKET_URI']) {
    if (!byName.has(required)) {
      problems.push({
        location: at(importLine),
        message: `${required} is missing: the IMPORT_* settings need both IMPORT_CONNECTION_NAME and IMPORT_BUCKET_URI`,
      });
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

  if (data.IMPORT_CONNECTION_NAME === undefined || data.IMPORT_BUCKET_URI === undefined) return undefined;
  const spec: ImportSpec = {
    service: 's3',
    connectionName: data.IMPORT_CONNECTION_NAME,
    bucketUri: data.IMPORT_BUCKET_URI.written,
    uri: data.IMPORT_BUCKET_URI.uri,
    schedule: data.IMPORT_SCHEDULE ?? '@auto',
    strategy: 'APPEND',
    maxFilesPerRun: data.IMPORT_MAX_FILES_PER_RUN ?? DEFAULT_MAX_FILES_PER_RUN,
    location: at(importLine),
  };
  if (data.IMPORT_FORMAT !== undefined) spec.format = data.IMPORT_FORMAT;
  if (data.IMPORT_CSV_HEADER !== undefined) spec.csvHeader = data.IMPORT_CSV_HEADER;
  return spec;
}
