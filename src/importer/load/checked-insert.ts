import { castExpressions, type StoreLimits, type TargetColumn } from './cast-expressions.js';
import { holdsLineBreak, type LineEnd } from '../probe/csv-dialect.js';
import { INTAKE, rawColumn } from './split-views.js';
import type { DirectRead, ReadQuery } from './raw-read.js';
import { quoteString } from '../../store/sql.js';
import { taggedInsertHead, taggedSelect } from '../commit.js';

/** The message of the check that stops a direct read; the split then loads the object instead. */
export const NEEDS_THE_SPLIT = 'bucketpipe: a row needs the split';

/**
 * A read straight into the data table with the split's own casts and checks, but none of its views:
 * a row that would be quarantined stops the statement instead. The caller then removes what it wrote
 * and loads the object through the split. The values stored are the split's by construction, since
 * the expressions are the same, and so are the store's limits (`limits`, the split's).
 *
 * In CSV, a line break inside a value also stops it: only the split can tell a multi-line value from
 * a quote left open that took in the rest of the object.
 */
export function checkedInsert(read: ReadQuery, columns: readonly TargetColumn[], format: string, lineEnd?: LineEnd, limits: StoreLimits = {}): DirectRead {
  const casts = columns.map((c, i) => castExpressions(c, rawColumn(i), limits));
  const checks = [`${INTAKE.raw} IS NULL`, ...casts.map((c) => c.fits)];
  if (format === 'csv') checks.push(...columns.map((_, i) => `NOT ${holdsLineBreak(`assumeNotNull(${rawColumn(i)})`, lineEnd)}`));
  const names = columns.map((c) => c.name);
  const values = casts.map((c) => c.value);
  const from = `FROM (${read.sql}) WHERE throwIf(NOT (${checks.join(' AND ')}), ${quoteString(NEEDS_THE_SPLIT)}) = 0`;
  return { sql: `${taggedInsertHead(names, values)} ${from}`, select: taggedSelect(names, values, from), params: read.params, settings: read.settings };
}
