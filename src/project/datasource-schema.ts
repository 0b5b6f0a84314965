import { z } from 'zod';
import { ENGINE_VALUES } from './engine-settings.js';
import { EXPORT_VALUES } from './export-settings.js';
import { IMPORT_VALUES } from './import-settings.js';

/** The strict validation of a datasource's single-line values, keyed by directive so issues map back to lines. */
const DatasourceValues = z.object({ ...ENGINE_VALUES, ...IMPORT_VALUES, ...EXPORT_VALUES });

export type DatasourceData = z.output<typeof DatasourceValues>;

export interface ValidatedValues {
  /** The valid values, read. */
  data: DatasourceData;
  /** The directives whose value is invalid, left out of `data`. */
  invalid: Set<string>;
  /** One issue per problem, with the directive it is about. */
  issues: Array<{ directive: string; message: string }>;
}

/** Validates the values of directives by name; a directive's problems never hide the other directives' values. */
export function validateValues(values: Record<string, string>): ValidatedValues {
  const parsed = DatasourceValues.safeParse(values);
  const invalid = new Set<string>();
  const issues: Array<{ directive: string; message: string }> = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const directive = String(issue.path[0]);
      invalid.add(directive);
      issues.push({ directive, message: issue.message });
    }
  }
  // The fields are independent, so the valid ones still parse once the invalid ones are left out.
  const data = parsed.success
    ? parsed.data
    : DatasourceValues.parse(Object.fromEntries(Object.entries(values).filter(([key]) => !invalid.has(key))));
  return { data, invalid, issues };
}
