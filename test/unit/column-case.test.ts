import { describe, expect, it } from 'vitest';
import { inCase } from '../../src/exporter/export-query.js';

describe('EXPORT_COLUMN_CASE', () => {
  it('changes the case of every letter', () => {
    expect(inCase('Order Id', 'upper')).toBe('ORDER ID');
    expect(inCase('Naïve Größe', 'lower')).toBe('naïve größe');
    expect(inCase('naïve_名前', 'upper')).toBe('NAÏVE_名前');
  });

  it('keeps a letter whose other case is more than one letter, so only the case changes', () => {
    expect(inCase('Größe', 'upper')).toBe('GRÖßE');
    expect(inCase('İstanbul', 'lower')).toBe('İstanbul');
    expect(inCase('ﬁle', 'upper')).toBe('ﬁLE');
  });
});
