import { describe, expect, it } from 'vitest';
import { capabilitiesOf, typeFamilies, unstorableColumnName, unsupportedType } from '../../src/store/server-capabilities.js';

describe('server capabilities', () => {
  it('knows what an old server lacks and a current one has', () => {
    const old = capabilitiesOf('18.16.1');
    expect(old).toMatchObject({ queryParameters: false, dateTime64: false, bool: false, map: false, json: false, lowCardinality: false, parquet: false });
    const current = capabilitiesOf('26.7.2.1');
    expect(Object.entries(current).filter(([k, v]) => k !== 'version' && k !== 'rowFormat' && v !== true)).toEqual([]);
    // Rows travel in the best binary format the server both reads and writes; text where its list is unknown.
    expect(current.rowFormat).toBe('TabSeparated');
    expect(capabilitiesOf('26.7.2.1', { formats: [{ name: 'Native', input: true, output: true }, { name: 'RowBinary', input: true, output: true }] }).rowFormat).toBe('Native');
    expect(capabilitiesOf('18.16.1', { formats: [{ name: 'Native', input: false, output: true }, { name: 'RowBinary', input: true, output: true }] }).rowFormat).toBe('RowBinary');
    expect(capabilitiesOf('18.16.1', { lowCardinalityEnabled: true }).lowCardinality).toBe(true);
    expect(capabilitiesOf('19.11.3').queryParameters).toBe(true);
    expect(capabilitiesOf('20.1.2').dateTime64).toBe(true);
  });

  it('reads the type families of a type text', () => {
    expect(typeFamilies("Nullable(Map(String, DateTime64(3, 'UTC')))")).toEqual(['Nullable', 'Map', 'String', 'DateTime64']);
    expect(typeFamilies('LowCardinality(Nullable(String))')).toEqual(['LowCardinality', 'Nullable', 'String']);
  });

  it('says why a type cannot be created, and what to use instead', () => {
    const old = capabilitiesOf('18.16.1');
    expect(unsupportedType('DateTime64(3)', old)).toBe('DateTime64 is not available on ClickHouse 18.16.1; use DateTime (whole seconds)');
    expect(unsupportedType('Array(Bool)', old)).toContain('Bool is not available');
    expect(unsupportedType('Nullable(Date32)', old)).toBe('Date32 is not available on ClickHouse 18.16.1; use Date (1970 to 2149), or String');
    expect(unsupportedType('LowCardinality(String)', old)).toContain('allow_experimental_low_cardinality_type');
    expect(unsupportedType('Nullable(Decimal(10, 2))', old)).toBeUndefined();
    expect(unsupportedType('DateTime64(3)', capabilitiesOf('24.8.1'))).toBeUndefined();
  });
});

describe('forStore', () => {
  it('fits inferred types to an old server and leaves them alone on a current one', async () => {
    const { forStore } = await import('../../src/importer/probe/infer-columns.js');
    const old = capabilitiesOf('18.16.1');
    expect(forStore('Nullable(DateTime64(9))', old)).toBe('Nullable(DateTime)');
    expect(forStore("DateTime64(3, 'UTC')", old)).toBe("DateTime('UTC')");
    expect(forStore('Array(Nullable(Bool))', old)).toBe('Array(Nullable(UInt8))');
    expect(forStore('Nullable(Date32)', old)).toBe('Nullable(Date)');
    expect(forStore('Date32', capabilitiesOf('21.9.2'))).toBe('Date32');
    expect(forStore('Nullable(DateTime64(9))', capabilitiesOf('26.7.2.1'))).toBe('Nullable(DateTime64(9))');
  });
});

describe('unstorableColumnName', () => {
  it('refuses names whose column files would outgrow a file name, where the server names files after columns', () => {
    const old = capabilitiesOf('18.16.1');
    expect(unstorableColumnName('a'.repeat(239), old)).toBeUndefined();
    expect(unstorableColumnName('a'.repeat(300), old)).toBe(
      "the name is too long for ClickHouse 18.16.1, which names a column's files after it: 300 bytes as a file name, at most 239 fit; use a shorter name",
    );
    // Every byte but letters, digits and _ takes three in a file name (é is two bytes, %C3%A9).
    expect(unstorableColumnName(`${'é'.repeat(39)} `, old)).toBeUndefined();
    expect(unstorableColumnName('é'.repeat(40), old)).toContain('240 bytes as a file name');
  });

  it('takes any name where the server hashes long file names', () => {
    expect(unstorableColumnName('a'.repeat(1000), capabilitiesOf('26.7.2.1'))).toBeUndefined();
    expect(unstorableColumnName('a'.repeat(1000), capabilitiesOf('18.16.1', { longColumnNames: true }))).toBeUndefined();
    expect(unstorableColumnName('a'.repeat(1000), capabilitiesOf('26.7.2.1', { longColumnNames: false }))).toContain('too long');
  });
});
