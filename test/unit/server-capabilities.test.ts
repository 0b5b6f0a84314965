import { describe, expect, it } from 'vitest';
import { capabilitiesOf, typeFamilies, unsupportedType } from '../../src/store/server-capabilities.js';

describe('server capabilities', () => {
  it('knows what an old server lacks and a current one has', () => {
    const old = capabilitiesOf('18.16.1');
    expect(old).toMatchObject({ queryParameters: false, dateTime64: false, bool: false, map: false, json: false, lowCardinality: false, parquet: false });
    const current = capabilitiesOf('26.7.2.1');
    expect(Object.entries(current).filter(([k, v]) => k !== 'version' && v !== true)).toEqual([]);
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
    expect(unsupportedType('LowCardinality(String)', old)).toContain('allow_experimental_low_cardinality_type');
    expect(unsupportedType('Nullable(Decimal(10, 2))', old)).toBeUndefined();
    expect(unsupportedType('DateTime64(3)', capabilitiesOf('24.8.1'))).toBeUndefined();
  });
});

describe('forStore', () => {
  it('fits inferred types to an old server and leaves them alone on a current one', async () => {
    const { forStore } = await import('../../src/importer/infer-columns.js');
    const old = capabilitiesOf('18.16.1');
    expect(forStore('Nullable(DateTime64(9))', old)).toBe('Nullable(DateTime)');
    expect(forStore("DateTime64(3, 'UTC')", old)).toBe("DateTime('UTC')");
    expect(forStore('Array(Nullable(Bool))', old)).toBe('Array(Nullable(UInt8))');
    expect(forStore('Nullable(DateTime64(9))', capabilitiesOf('26.7.2.1'))).toBe('Nullable(DateTime64(9))');
  });
});
