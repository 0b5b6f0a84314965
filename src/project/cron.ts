/** `EXPORT_SCHEDULE`: `@on-demand`, a shorthand, or a cron expression of 5 or 6 fields. */

const CRON_SHORTHANDS = new Map([
  ['@hourly', '0 * * * *'],
  ['@daily', '0 0 * * *'],
  ['@weekly', '0 0 * * 0'],
  ['@monthly', '0 0 1 * *'],
]);
const CRON_NAMES = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);

/** `@on-demand`, a shorthand as its cron equivalent, or a cron expression with its fields single-spaced. */
export function exportSchedule(written: string): string | undefined {
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
