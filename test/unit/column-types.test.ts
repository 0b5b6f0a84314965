import { describe, it, expect } from 'vitest';
import {
  baseType,
  dateTimePrecision,
  dateTimeRange,
  decimalIntegerDigits,
  enumNames,
  isCompositeType,
  isDateTimeType,
  isNullableType,
  isNumericType,
  isStringType,
  convertsLosslessly,
  makeNullable,
} from '../../src/importer/probe/column-types.js';

describe('baseType', () => {
  it('unwraps Nullable and LowCardinality recursively', () => {
    expect(baseType('Nullable(Int64)')).toBe('Int64');
    expect(baseType('LowCardinality(String)')).toBe('String');
    expect(baseType('LowCardinality(Nullable(String))')).toBe('String');
    expect(baseType(' Nullable(DateTime64(3, \'UTC\')) ')).toBe("DateTime64(3, 'UTC')");
  });

  it('leaves other types as they are, trimmed', () => {
    expect(baseType('Array(Nullable(String))')).toBe('Array(Nullable(String))');
    expect(baseType('  UInt8 ')).toBe('UInt8');
    expect(baseType('Map(String, Nullable(Int32))')).toBe('Map(String, Nullable(Int32))');
  });
});

describe('isNullableType', () => {
  it('is true for Nullable, also inside LowCardinality', () => {
    expect(isNullableType('Nullable(String)')).toBe(true);
    expect(isNullableType('LowCardinality(Nullable(String))')).toBe(true);
    expect(isNullableType('  Nullable(Int8)')).toBe(true);
  });

  it('is false for other types, including containers of Nullable', () => {
    expect(isNullableType('String')).toBe(false);
    expect(isNullableType('LowCardinality(String)')).toBe(false);
    expect(isNullableType('Array(Nullable(String))')).toBe(false);
  });
});

describe('isStringType', () => {
  it('recognizes String through wrappers', () => {
    expect(isStringType('String')).toBe(true);
    expect(isStringType('Nullable(String)')).toBe(true);
    expect(isStringType('LowCardinality(Nullable(String))')).toBe(true);
  });

  it('rejects other text-like types', () => {
    expect(isStringType('FixedString(3)')).toBe(false);
    expect(isStringType('Array(String)')).toBe(false);
    expect(isStringType('UUID')).toBe(false);
  });
});

describe('isCompositeType', () => {
  it('recognizes containers and dynamic types', () => {
    for (const type of ['Array(String)', 'Map(String, UInt64)', 'Tuple(a Int8, b String)', 'Nested(x Int8)', 'JSON', "Object('json')", 'Variant(String, UInt64)', 'Dynamic']) {
      expect(isCompositeType(type), type).toBe(true);
    }
    expect(isCompositeType('Nullable(Array(String))')).toBe(true);
  });

  it('rejects scalar types', () => {
    for (const type of ['String', 'Int64', 'Nullable(Float64)', 'DateTime', 'LowCardinality(String)', 'Enum8(\'a\' = 1)']) {
      expect(isCompositeType(type), type).toBe(false);
    }
  });
});

describe('isDateTimeType', () => {
  it('recognizes date and time types', () => {
    for (const type of ['Date', 'Date32', 'DateTime', "DateTime('UTC')", 'DateTime64(3)', "Nullable(DateTime64(6, 'Europe/Paris'))"]) {
      expect(isDateTimeType(type), type).toBe(true);
    }
  });

  it('rejects other types', () => {
    for (const type of ['String', 'Int64', 'DateTimeX', 'Array(DateTime)', 'Time']) {
      expect(isDateTimeType(type), type).toBe(false);
    }
  });
});

describe('isNumericType', () => {
  it('recognizes integers, floats and decimals', () => {
    for (const type of ['Int8', 'UInt64', 'Int256', 'Float32', 'Float64', 'BFloat16', 'Decimal(10, 2)', 'Decimal64(4)', 'Nullable(UInt32)', 'LowCardinality(Nullable(Int16))']) {
      expect(isNumericType(type), type).toBe(true);
    }
  });

  it('rejects other types', () => {
    for (const type of ['String', 'Bool', 'Int', 'IntervalDay', 'Array(Int64)', 'DateTime', 'UUID']) {
      expect(isNumericType(type), type).toBe(false);
    }
  });
});

describe('makeNullable', () => {
  it('wraps plain types', () => {
    expect(makeNullable('Int64')).toBe('Nullable(Int64)');
    expect(makeNullable(' String ')).toBe('Nullable(String)');
    expect(makeNullable("DateTime64(3, 'UTC')")).toBe("Nullable(DateTime64(3, 'UTC'))");
  });

  it('puts Nullable inside LowCardinality', () => {
    expect(makeNullable('LowCardinality(String)')).toBe('LowCardinality(Nullable(String))');
  });

  it('leaves nullable types as they are', () => {
    expect(makeNullable('Nullable(Int64)')).toBe('Nullable(Int64)');
    expect(makeNullable('LowCardinality(Nullable(String))')).toBe('LowCardinality(Nullable(String))');
  });

  it('leaves composite types as they are', () => {
    expect(makeNullable('Array(String)')).toBe('Array(String)');
    expect(makeNullable('Map(String, Int64)')).toBe('Map(String, Int64)');
    expect(makeNullable('Tuple(Int8, String)')).toBe('Tuple(Int8, String)');
    expect(makeNullable('JSON')).toBe('JSON');
  });

  it('is idempotent', () => {
    for (const type of ['Int8', 'LowCardinality(String)', 'Array(Int8)', 'Nullable(String)']) {
      expect(makeNullable(makeNullable(type))).toBe(makeNullable(type));
    }
  });
});

describe('dateTimePrecision', () => {
  it('reads the precision of DateTime64, through wrappers', () => {
    expect(dateTimePrecision('DateTime64(3)')).toBe(3);
    expect(dateTimePrecision("DateTime64(6, 'UTC')")).toBe(6);
    expect(dateTimePrecision('DateTime64( 9 )')).toBe(9);
    expect(dateTimePrecision('Nullable(DateTime64(6))')).toBe(6);
    expect(dateTimePrecision('DateTime64(0)')).toBe(0);
  });

  it('is 0 for other types', () => {
    expect(dateTimePrecision('DateTime')).toBe(0);
    expect(dateTimePrecision('Date32')).toBe(0);
    expect(dateTimePrecision("DateTime('UTC')")).toBe(0);
    expect(dateTimePrecision('String')).toBe(0);
  });
});

describe('dateTimeZone', () => {
  it('reads the zone of DateTime and DateTime64 types, UTC otherwise', async () => {
    const { dateTimeZone } = await import('../../src/importer/probe/column-types.js');
    expect(dateTimeZone("DateTime('Europe/Paris')")).toBe('Europe/Paris');
    expect(dateTimeZone("DateTime64(3, 'America/New_York')")).toBe('America/New_York');
    expect(dateTimeZone("Nullable(DateTime64(6,'Asia/Tokyo'))")).toBe('Asia/Tokyo');
    expect(dateTimeZone('DateTime')).toBe('UTC');
    expect(dateTimeZone('DateTime64(3)')).toBe('UTC');
    expect(dateTimeZone('Date')).toBe('UTC');
  });
});

describe('convertsLosslessly', () => {
  it('accepts the same type through Nullable and LowCardinality', () => {
    expect(convertsLosslessly('String', 'LowCardinality(String)')).toBe(true);
    expect(convertsLosslessly('Nullable(Int32)', 'Int32')).toBe(true);
    expect(convertsLosslessly("DateTime64(3, 'UTC')", 'DateTime64(3)')).toBe(true);
    expect(convertsLosslessly("DateTime('UTC')", "DateTime64(3, 'Europe/Berlin')")).toBe(true);
  });
  it('accepts wider integers and floats only', () => {
    expect(convertsLosslessly('Int32', 'Int64')).toBe(true);
    expect(convertsLosslessly('UInt32', 'Int64')).toBe(true);
    expect(convertsLosslessly('UInt32', 'UInt64')).toBe(true);
    expect(convertsLosslessly('Int32', 'Float64')).toBe(true);
    expect(convertsLosslessly('Float32', 'Float64')).toBe(true);
    expect(convertsLosslessly('Int64', 'Int32')).toBe(false);
    expect(convertsLosslessly('UInt64', 'Int64')).toBe(false);
    expect(convertsLosslessly('Int8', 'UInt64')).toBe(false);
    expect(convertsLosslessly('Int64', 'Float64')).toBe(false);
    expect(convertsLosslessly('Float64', 'Float32')).toBe(false);
  });
  it('refuses conversions that parse, round or shift', () => {
    expect(convertsLosslessly('String', 'Int32')).toBe(false);
    expect(convertsLosslessly('Float64', 'Decimal(10, 2)')).toBe(false);
    expect(convertsLosslessly('DateTime64(6)', 'DateTime64(3)')).toBe(false);
    expect(convertsLosslessly('Date', 'DateTime')).toBe(false);
    expect(convertsLosslessly('Int32', 'String')).toBe(false);
  });
});

describe('enumNames', () => {
  it('reads the element names of Enum8 and Enum16, quotes unescaped', () => {
    expect(enumNames("Enum8('a' = 1, 'b' = 2)")).toEqual(['a', 'b']);
    expect(enumNames("Nullable(Enum16('it\\'s' = -1, 'x, y = 3' = 300))")).toEqual(["it's", 'x, y = 3']);
    expect(enumNames("LowCardinality(Enum8('' = 0))")).toEqual(['']);
  });

  it('is undefined for other types', () => {
    expect(enumNames('String')).toBeUndefined();
    expect(enumNames("Array(Enum8('a' = 1))")).toBeUndefined();
  });
});

describe('decimalIntegerDigits', () => {
  it('is precision minus scale, in either spelling', () => {
    expect(decimalIntegerDigits('Decimal(5, 2)')).toBe(3);
    expect(decimalIntegerDigits('Nullable(Decimal(10,10))')).toBe(0);
    expect(decimalIntegerDigits('Decimal(7)')).toBe(7);
    expect(decimalIntegerDigits('Decimal32(2)')).toBe(7);
    expect(decimalIntegerDigits('Decimal64(4)')).toBe(14);
    expect(decimalIntegerDigits('Decimal128(0)')).toBe(38);
    expect(decimalIntegerDigits('Decimal256(6)')).toBe(70);
  });

  it('is undefined for other types', () => {
    expect(decimalIntegerDigits('Float64')).toBeUndefined();
    expect(decimalIntegerDigits('Array(Decimal(5, 2))')).toBeUndefined();
  });
});

describe('dateTimeRange', () => {
  it('gives the instants each date and time type can hold', () => {
    expect(dateTimeRange('Date')).toEqual({ min: '1970-01-01 00:00:00', max: '2149-06-06 23:59:59.999' });
    expect(dateTimeRange('Nullable(Date32)')).toEqual({ min: '1900-01-01 00:00:00', max: '2299-12-31 23:59:59.999' });
    expect(dateTimeRange("DateTime('Asia/Tokyo')")).toEqual({ min: '1970-01-01 00:00:00', max: '2106-02-07 06:28:15.999' });
    expect(dateTimeRange('DateTime')).toEqual(dateTimeRange("DateTime('UTC')"));
    expect(dateTimeRange("DateTime64(3, 'UTC')")).toEqual({ min: '1900-01-01 00:00:00', max: '2299-12-31 23:59:59.999' });
    expect(dateTimeRange('DateTime64(9)')).toEqual({ min: '1900-01-01 00:00:00', max: '2262-04-11 23:47:16' });
  });

  it('is undefined for other types', () => {
    expect(dateTimeRange('String')).toBeUndefined();
    expect(dateTimeRange('Array(Date)')).toBeUndefined();
  });
});
