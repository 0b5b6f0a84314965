import { describe, it, expect } from 'vitest';
import { delimitedFormat, fieldColumn, isGenericColumnNames, positionalRead, sniffDelimiter, uniqueColumnNames } from '../../src/importer/csv-dialect.js';

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

describe('uniqueColumnNames', () => {
  it('names empty header fields by place and numbers repeats', () => {
    expect(uniqueColumnNames(['id', 'name', 'name', '', null, 'name'])).toEqual(['id', 'name', 'name_2', 'column_4', 'column_5', 'name_3']);
  });

  it('keeps names exactly, spaces and case included', () => {
    expect(uniqueColumnNames([' Name ', 'name', 'NAME'])).toEqual([' Name ', 'name', 'NAME']);
  });

  it('does not collide with a name that already has the suffix', () => {
    expect(uniqueColumnNames(['a', 'a_2', 'a'])).toEqual(['a', 'a_2', 'a_3']);
  });
});

describe('positionalRead', () => {
  it('skips the header by position and names fields _bp_f0..', () => {
    expect(positionalRead(';', true, 3)).toEqual({
      format: 'CSVWithNames',
      structure: '_bp_f0 Nullable(String), _bp_f1 Nullable(String), _bp_f2 Nullable(String)',
      settings: { format_csv_delimiter: ';', input_format_with_names_use_header: 0, input_format_csv_detect_header: 0, input_format_custom_detect_header: 0 },
    });
    expect(positionalRead('\t', false, 1).format).toBe('CustomSeparated');
    expect(fieldColumn(7)).toBe('_bp_f7');
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
