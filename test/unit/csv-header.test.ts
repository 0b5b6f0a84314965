import { describe, expect, it } from 'vitest';
import { parseBucketUri } from '../../src/project/bucket-uri.js';
import { ambiguousHeaderNote, headerEvidence, headerRule, namesColumns } from '../../src/importer/probe/csv-header.js';

const location = { file: 'datasources/x.datasource', line: 1 };
const schema = [{ name: 'name', type: 'String', location }, { name: 'city', type: 'String', location }];
const withImport = (csvHeader?: boolean) => ({
  service: 's3' as const, connectionName: 'c', bucketUri: 's3://bkt/*.csv', uri: parseBucketUri('s3://bkt/*.csv'), schedule: '@on-demand' as const, strategy: 'APPEND' as const, maxFilesPerRun: 5, location, csvHeader,
});

describe('headerRule', () => {
  it('takes IMPORT_CSV_HEADER over everything else', () => {
    expect(headerRule({ schema, import: withImport(true) })).toEqual({ kind: 'decided', hasHeader: true });
    expect(headerRule({ import: withImport(false) }, { columns: ['a', 'b'], csvHeader: true })).toEqual({ kind: 'decided', hasHeader: false });
  });

  it('with a SCHEMA, a header must name the columns of the table (or of the SCHEMA before there is one)', () => {
    expect(headerRule({ schema, import: withImport() })).toEqual({ kind: 'names', columns: ['name', 'city'] });
    expect(headerRule({ schema, import: withImport() }, { columns: ['name', 'city', 'kept'] })).toEqual({ kind: 'names', columns: ['name', 'city', 'kept'] });
  });

  it('without a SCHEMA, weighs the reference object, then holds to what its table records', () => {
    expect(headerRule({ import: withImport() })).toEqual({ kind: 'evidence' });
    expect(headerRule({ import: withImport() }, { columns: ['c1', 'c2'], csvHeader: false })).toEqual({ kind: 'decided', hasHeader: false });
    expect(headerRule({ import: withImport() }, { columns: ['id', 'name'], csvHeader: true })).toEqual({ kind: 'decided', hasHeader: true });
    // Tables made before the decision was recorded: the engine's names mean headerless objects.
    expect(headerRule({ import: withImport() }, { columns: ['c1', 'c2'] })).toEqual({ kind: 'decided', hasHeader: false });
    expect(headerRule({ import: withImport() }, { columns: ['id', 'name'] })).toEqual({ kind: 'decided', hasHeader: true });
  });
});

describe('namesColumns', () => {
  it('is true when a field names a column exactly, or but for case and surrounding spaces', () => {
    expect(namesColumns(['name', 'city'], ['name', 'city'])).toBe(true);
    expect(namesColumns([' NAME ', 'town'], ['name', 'city'])).toBe(true);
    expect(namesColumns(['city', null], ['name', 'city'])).toBe(true);
  });

  it('is false for data, whatever it looks like', () => {
    expect(namesColumns(['alice', 'paris'], ['name', 'city'])).toBe(false);
    expect(namesColumns(['dave', 'lima'], ['name', 'city'])).toBe(false);
    expect(namesColumns([], ['name'])).toBe(false);
    expect(namesColumns(['', null], ['name'])).toBe(false);
  });
});

describe('headerEvidence', () => {
  it('text names over a column of numbers or dates are a header, repeated and empty names too', () => {
    expect(headerEvidence(['id', 'name'], [['1', 'a'], ['2', 'b']])).toBe('header');
    expect(headerEvidence(['id', 'name', 'name', '', 'value'], [['1', 'a', 'b', 'c', '10']])).toBe('header');
    expect(headerEvidence(['name', 'day'], [['a', '2024-01-01'], ['b', null]])).toBe('header');
  });

  it('a first row with a number or a date is data', () => {
    for (const number of ['1', '-2', '+3.5', '.5', '4.', '1e10', '2.5E-3', ' 42 ']) {
      expect(headerEvidence(['name', number], [['a', 'b']]), number).toBe('data');
    }
    expect(headerEvidence(['2024-01-01', 'abc'], [])).toBe('data');
    expect(headerEvidence(['x', '2024-01-01 10:00:00'], [])).toBe('data');
  });

  it('an empty first row is data', () => {
    expect(headerEvidence([], [])).toBe('data');
    expect(headerEvidence(['', '  ', null], [['1', '2', '3']])).toBe('data');
  });

  it('text over text, or a row alone, is ambiguous', () => {
    expect(headerEvidence(['alice', 'paris'], [['bob', 'rome']])).toBe('ambiguous');
    expect(headerEvidence(['dave', 'lima'], [])).toBe('ambiguous');
    expect(headerEvidence(['first name', 'city'], [['Ada', 'London'], ['Grace', 'Arlington']])).toBe('ambiguous');
    // Values that merely contain digits are text.
    expect(headerEvidence(['col1', 'v2'], [['3rd', '1.2.3']])).toBe('ambiguous');
    // A column that mixes numbers and text says nothing.
    expect(headerEvidence(['n', 'x'], [['1', 'a'], ['two', 'b']])).toBe('ambiguous');
  });
});

describe('ambiguousHeaderNote', () => {
  it('names the object, the row, the datasource and the directive that settles it', () => {
    const note = ambiguousHeaderNote('s3://bkt/a.csv', ['alice', 'paris'], 'people');
    expect(note).toContain('s3://bkt/a.csv ("alice", "paris")');
    expect(note).toContain('read as data, and so is the first row of every object of people');
    expect(note).toContain('IMPORT_CSV_HEADER true');
  });
});
