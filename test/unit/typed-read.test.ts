import { describe, expect, it } from 'vitest';
import type { ImportContext } from '../../src/importer/import-context.js';
import type { ObjectLayout } from '../../src/importer/probe/probe-object.js';
import { typedCsvInsert } from '../../src/importer/load/typed-csv-insert.js';

const ctx = { datasource: { schema: undefined } } as unknown as ImportContext;
const layoutOf = (names: string[]): ObjectLayout =>
  ({
    object: { bucket: 'b', key: 'k.csv' },
    format: 'csv',
    source: { url: 'http://127.0.0.1/b/k.csv', compression: 'none' },
    columns: names.map((name) => ({ name, type: 'String' })),
    csv: { delimiter: ',', hasHeader: true },
    empty: false,
  }) as unknown as ObjectLayout;

describe('typedCsvInsert', () => {
  it('takes text, 8- to 64-bit integers, Float64 and dates, and nothing the reader would bend', () => {
    for (const type of ['String', 'LowCardinality(String)', 'Nullable(String)', 'UInt8', 'Int64', 'Nullable(UInt64)', 'Float64', 'Date', 'Date32', 'DateTime', "DateTime64(6, 'Europe/Berlin')"]) {
      expect(typedCsvInsert(ctx, layoutOf(['a']), [{ name: 'a', type }]), type).toBeDefined();
    }
    for (const type of ['Float32', 'Int128', 'UInt256', 'Decimal(10, 2)', "Enum8('a' = 1)", 'Array(Int32)', 'UUID', 'Bool', 'Map(String, String)']) {
      expect(typedCsvInsert(ctx, layoutOf(['a']), [{ name: 'a', type }]), type).toBeUndefined();
    }
  });

  it('reads integers wide and checks their range; reads times at millisecond precision at least, in their zone', () => {
    const read = typedCsvInsert(ctx, layoutOf(['n', 't']), [{ name: 'n', type: 'UInt8' }, { name: 't', type: "DateTime('Asia/Tokyo')" }])!;
    expect(read.params.src_structure).toBe("_bp_f0 Nullable(Int128), _bp_f1 Nullable(DateTime64(3, 'Asia/Tokyo'))");
    expect(read.sql).toContain("_bp_f0 BETWEEN toInt128('0') AND toInt128('255')");
    expect(read.sql).toContain("toDateTime64('1970-01-01 00:00:00', 3, 'UTC') AND toDateTime64('2106-02-07 06:28:15.999', 3, 'UTC')");
    expect(read.settings.date_time_input_format).toBe('best_effort');
  });

  it('reads fields no column takes as text, and leaves objects without any mapped column to the split', () => {
    const read = typedCsvInsert(ctx, layoutOf(['x', 'n']), [{ name: 'n', type: 'Int32' }])!;
    expect(read.params.src_structure).toBe('_bp_f0 Nullable(String), _bp_f1 Nullable(Int128)');
    expect(typedCsvInsert(ctx, layoutOf(['x']), [{ name: 'n', type: 'Int32' }])).toBeUndefined();
  });
});
