import { describe, it, expect } from 'vitest';
import { delimitedFormat, isGenericColumnNames, looksLikeHeader, sniffDelimiter } from '../../src/importer/csv-dialect.js';

describe('sniffDelimiter', () => {
  it('finds the most frequent candidate', () => {
    expect(sniffDelimiter('a,b,c')).toBe(',');
    expect(sniffDelimiter('a;b;c')).toBe(';');
    expect(sniffDelimiter('a\tb\tc')).toBe('\t');
    expect(sniffDelimiter('a|b|c')).toBe('|');
    expect(sniffDelimiter('a;b;c,d')).toBe(';');
  });

  it('ignores delimiters inside double quotes', () => {
    expect(sniffDelimiter('"a,b,c,d";"e";"f"')).toBe(';');
    expect(sniffDelimiter('name|"Smith, John, Jr."|age')).toBe('|');
    expect(sniffDelimiter('"x\ty\tz",a,b')).toBe(',');
  });

  it('handles doubled quotes inside a quoted field', () => {
    expect(sniffDelimiter('"say ""a,b,c,d""";x;y')).toBe(';');
  });

  it('prefers comma in a tie', () => {
    expect(sniffDelimiter('a,b;c')).toBe(',');
    expect(sniffDelimiter('a;b,c')).toBe(',');
    expect(sniffDelimiter('a\tb,c|d')).toBe(',');
  });

  it('breaks ties without a comma in candidate order (; before tab before |)', () => {
    expect(sniffDelimiter('a|b;c')).toBe(';');
    expect(sniffDelimiter('a|b\tc')).toBe('\t');
  });

  it('falls back to comma for one-column lines and empty lines', () => {
    expect(sniffDelimiter('just_one_column')).toBe(',');
    expect(sniffDelimiter('')).toBe(',');
    expect(sniffDelimiter('"a;b|c\td"')).toBe(',');
  });
});

describe('isGenericColumnNames', () => {
  it('accepts c1..cN in order', () => {
    expect(isGenericColumnNames(['c1'])).toBe(true);
    expect(isGenericColumnNames(['c1', 'c2', 'c3'])).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isGenericColumnNames([])).toBe(false);
    expect(isGenericColumnNames(['c2', 'c1'])).toBe(false);
    expect(isGenericColumnNames(['c1', 'c3'])).toBe(false);
    expect(isGenericColumnNames(['c0'])).toBe(false);
    expect(isGenericColumnNames(['C1'])).toBe(false);
    expect(isGenericColumnNames(['c1', 'name'])).toBe(false);
    expect(isGenericColumnNames(['id', 'name'])).toBe(false);
  });
});

describe('looksLikeHeader', () => {
  it('accepts unique, present, non-numeric values', () => {
    expect(looksLikeHeader(['id', 'name', 'created at'])).toBe(true);
    expect(looksLikeHeader(['x'])).toBe(true);
    expect(looksLikeHeader(['2024-01-01', 'abc'])).toBe(true);
  });

  it('rejects an empty row', () => {
    expect(looksLikeHeader([])).toBe(false);
  });

  it('rejects rows with a missing or blank value', () => {
    expect(looksLikeHeader(['id', null])).toBe(false);
    expect(looksLikeHeader(['id', ''])).toBe(false);
    expect(looksLikeHeader(['id', '   '])).toBe(false);
  });

  it('rejects rows with a number', () => {
    for (const number of ['1', '-2', '+3.5', '.5', '4.', '1e10', '2.5E-3', ' 42 ']) {
      expect(looksLikeHeader(['name', number])).toBe(false);
    }
  });

  it('accepts values that merely contain digits', () => {
    expect(looksLikeHeader(['col1', 'v2', '3rd', '1.2.3'])).toBe(true);
  });

  it('rejects rows with a repeated value', () => {
    expect(looksLikeHeader(['a', 'b', 'a'])).toBe(false);
  });
});

describe('delimitedFormat', () => {
  it('reads comma-separated files with the CSV formats', () => {
    expect(delimitedFormat(',', true)).toEqual({ format: 'CSVWithNames', settings: { format_csv_delimiter: ',' } });
    expect(delimitedFormat(',', false)).toEqual({ format: 'CSV', settings: { format_csv_delimiter: ',' } });
  });

  it('passes other delimiters to the CSV reader', () => {
    expect(delimitedFormat(';', true)).toEqual({ format: 'CSVWithNames', settings: { format_csv_delimiter: ';' } });
    expect(delimitedFormat('|', false)).toEqual({ format: 'CSV', settings: { format_csv_delimiter: '|' } });
  });

  it('reads tab-separated files with the custom format and CSV escaping', () => {
    const settings = {
      format_custom_escaping_rule: 'CSV',
      format_custom_field_delimiter: '\t',
      format_custom_row_before_delimiter: '',
      format_custom_row_after_delimiter: '\n',
      format_custom_row_between_delimiter: '',
      format_custom_result_before_delimiter: '',
      format_custom_result_after_delimiter: '',
    };
    expect(delimitedFormat('\t', true)).toEqual({ format: 'CustomSeparatedWithNames', settings });
    expect(delimitedFormat('\t', false)).toEqual({ format: 'CustomSeparated', settings });
    expect(delimitedFormat('\t', true).settings).not.toHaveProperty('format_csv_delimiter');
  });
});
