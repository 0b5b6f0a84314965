import { describe, it, expect } from 'vitest';
import { delimitedFormat, fieldColumn, holdsLineBreak, isGenericColumnNames, lineEndOf, positionalRead, sniffDelimiter, uniqueColumnNames } from '../../src/importer/probe/csv-dialect.js';
import { firstLineOf, holdsLoneCarriageReturn } from '../../src/importer/probe/head-text.js';

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
      settings: { format_csv_delimiter: ';', input_format_csv_allow_cr_end_of_line: 1, input_format_with_names_use_header: 0, input_format_csv_detect_header: 0, input_format_custom_detect_header: 0 },
    });
    expect(positionalRead('\t', false, 1).format).toBe('CustomSeparated');
    expect(fieldColumn(7)).toBe('_bp_f7');
  });
});

describe('delimitedFormat', () => {
  it('reads comma-separated files with the CSV formats', () => {
    expect(delimitedFormat(',', true)).toEqual({ format: 'CSVWithNames', settings: { format_csv_delimiter: ',', input_format_csv_allow_cr_end_of_line: 1 } });
    expect(delimitedFormat(',', false)).toEqual({ format: 'CSV', settings: { format_csv_delimiter: ',', input_format_csv_allow_cr_end_of_line: 1 } });
  });

  it('passes other delimiters to the CSV reader', () => {
    expect(delimitedFormat(';', true)).toEqual({ format: 'CSVWithNames', settings: { format_csv_delimiter: ';', input_format_csv_allow_cr_end_of_line: 1 } });
    expect(delimitedFormat('|', false)).toEqual({ format: 'CSV', settings: { format_csv_delimiter: '|', input_format_csv_allow_cr_end_of_line: 1 } });
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
      input_format_csv_allow_cr_end_of_line: 1,
    };
    expect(delimitedFormat('\t', true)).toEqual({ format: 'CustomSeparatedWithNames', settings });
    expect(delimitedFormat('\t', false)).toEqual({ format: 'CustomSeparated', settings });
    expect(delimitedFormat('\t', true).settings).not.toHaveProperty('format_csv_delimiter');
  });
});

describe('line ends', () => {
  it('are the first one outside quotes: \\n, \\r\\n or a lone \\r', () => {
    expect(lineEndOf('a,b\n1,2', false)).toBe('\n');
    expect(lineEndOf('a,b\r\n1,2', false)).toBe('\r\n');
    expect(lineEndOf('a,b\r1,2\r\n', false)).toBe('\r');
    expect(lineEndOf('"a\r\nb",c\r1,2', false)).toBe('\r');
    expect(lineEndOf('a,b', true)).toBe('\n');
  });

  it('leave a \\r that ends a cut-off head undecided, as \\r\\n', () => {
    expect(lineEndOf('a,b\r', false)).toBe('\r\n');
    expect(lineEndOf('a,b\r', true)).toBe('\r');
  });

  it('end the first line of a head', () => {
    expect(firstLineOf({ text: 'a,b\r1,2', complete: false })).toBe('a,b');
    expect(firstLineOf({ text: 'a,b\r\n1,2', complete: false })).toBe('a,b');
    expect(firstLineOf({ text: 'a,b', complete: false })).toBeUndefined();
    expect(firstLineOf({ text: 'a,b', complete: true })).toBe('a,b');
  });

  it('are lone carriage returns only when a \\r is not followed by \\n', () => {
    expect(holdsLoneCarriageReturn({ text: '{}\r\n{}\n', complete: true })).toBe(false);
    expect(holdsLoneCarriageReturn({ text: '{}\r{}', complete: true })).toBe(true);
    expect(holdsLoneCarriageReturn({ text: '{}\r\n{}\r', complete: false })).toBe(false);
    expect(holdsLoneCarriageReturn({ text: '{}\r\n{}\r', complete: true })).toBe(true);
  });

  it('make a value with a line break one for the split: \\r too in files whose lines end in a lone \\r', () => {
    expect(holdsLineBreak('v')).toBe("position(v, '\\n') > 0");
    expect(holdsLineBreak('v', '\r\n')).toBe("position(v, '\\n') > 0");
    expect(holdsLineBreak('v', '\r')).toBe("(position(v, '\\n') > 0 OR position(v, '\\r') > 0)");
  });

  it('follow the file in a tab-separated read', () => {
    expect(delimitedFormat('\t', false, '\r\n').settings.format_custom_row_after_delimiter).toBe('\r\n');
    expect(positionalRead('\t', true, 2, '\r').settings.format_custom_row_after_delimiter).toBe('\r');
  });
});
