import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castExpressions } from '../../src/importer/load/cast-expressions.js';
import { baseType, dateTimePrecision, dateTimeZone, isDateTimeType } from '../../src/importer/probe/column-types.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { selectRows } from '../../src/store/queries.js';
import { quoteString } from '../../src/store/sql.js';

// Texts as files spell them: padded, in other cases, null and boolean words, odd number forms, dates.
const TEXTS: (string | null)[] = [
  null, '', ' ', 'null', ' NULL ', 'Null', 'true', ' TRUE ', 'false', 'yes',
  '5', ' 5', '5 ', ' 5 ', '\t5', '5\t', '+5', '05', '-0', '5.0', '5.50', '1e3', '1E3', '-1', '255', '256', '-129',
  'nan', 'NaN', '-inf', 'inf', '0x10', '1_000', '1,5', '12.345', '99999999.99', '.5', '5.', 'abc', '日本',
  '18446744073709551615', '18446744073709551616', '-9223372036854775808', '9223372036854775808',
  '2026-01-01', ' 2026-01-01 10:00:00 ', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.123+02:00',
  '1700000000', '1700000000.5', '01/02/2026', 'Jan 5 2026', 'now', '0', '00:00', '2026',
];

const TYPES = [
  'Int8', 'UInt8', 'Int32', 'UInt64', 'Int64', 'Nullable(Int32)', 'Float64', 'Float32', 'Nullable(Float64)',
  'Decimal(10, 2)', 'Bool', 'DateTime64(3)', "DateTime64(6, 'Europe/Berlin')", 'Nullable(DateTime64(3))', 'DateTime', 'Date', 'Date32',
];

/**
 * The cast rule as the split documents it, in one path: spaces trimmed; empty and `null` texts absent
 * (NULL, or the type's default); `true`/`false` are 1/0 in integer columns; the rest parsed by the
 * engine. The cast under test takes a faster path for texts that parse as written; it must agree.
 */
function ruleOf(type: string, raw: string): { value: string; fits: string } {
  const base = baseType(type);
  const present = `if(${raw} IS NULL OR lowerUTF8(trimBoth(${raw})) IN ('', 'null'), NULL, trimBoth(${raw}))`;
  const numeric = /^U?Int\d+$/.test(base) ? `transform(lowerUTF8(${present}), ['true', 'false'], ['1', '0'], ${present})` : present;
  const parsed = isDateTimeType(type)
    ? `parseDateTime64BestEffortOrNull(${present}, ${Math.max(dateTimePrecision(type), 3)}, ${quoteString(dateTimeZone(type))})`
    : `accurateCastOrNull(${numeric}, ${quoteString(base)})`;
  return {
    value: type.startsWith('Nullable(') ? `CAST(${parsed}, ${quoteString(type)})` : `CAST(ifNull(${parsed}, defaultValueOfTypeName(${quoteString(base)})), ${quoteString(type)})`,
    fits: `(${present} IS NULL OR ${parsed} IS NOT NULL)`,
  };
}

describe('cast of raw texts', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bucketpipe-casts-'));
    store = await createStore({ dataDir: join(dir, 'data'), role: 'worker' });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(TYPES)('%s: the same value and verdict as the one-path rule, for every spelling', async (type) => {
    const cast = castExpressions({ name: 'c', type }, 'raw');
    const rule = ruleOf(type, 'raw');
    // Values out of the type's range are checked apart (see the import tests); the rule has no range.
    const rows = await selectRows<{ raw: string | null; value: string; fits: number; rule_value: string; rule_fits: number }>(
      store.client,
      `SELECT raw, toString(${cast.value}) AS value, toUInt8(${cast.fits}) AS fits, toString(${rule.value}) AS rule_value, toUInt8(${rule.fits}) AS rule_fits
       FROM (SELECT arrayJoin({texts:Array(Nullable(String))}) AS raw)`,
      { texts: TEXTS },
    );
    expect(rows).toHaveLength(TEXTS.length);
    const differing = rows.filter((r) => (r.rule_fits === 1 && r.value !== r.rule_value) || (r.fits === 1 && r.rule_fits === 0));
    expect(differing).toEqual([]);
    // Where the rule fits and the cast does not, the value can only be out of the type's range.
    const refused = rows.filter((r) => r.rule_fits === 1 && r.fits === 0).map((r) => r.raw);
    expect(refused.every((raw) => /^-?\d|^\s*\d{4}-|^\s*\d+$/.test(raw ?? ''))).toBe(true);
    // The corpus reaches both paths: texts taken as written and texts only the fallback reads.
    expect(rows.find((r) => r.raw === ' NULL ')?.fits).toBe(1);
    expect(rows.filter((r) => r.fits === 1 && !['', 'null'].includes((r.raw ?? '').trim().toLowerCase())).length).toBeGreaterThan(3);
    expect(rows.filter((r) => r.fits === 0).length).toBeGreaterThan(3);
  });
});
