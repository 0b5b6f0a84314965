import { quoteString } from '../../store/sql.js';
import {
  baseType,
  dateTimePrecision,
  dateTimeRange,
  dateTimeZone,
  decimalIntegerDigits,
  enumNames,
  isCompositeType,
  isDateTimeType,
  isNullableType,
  isStringType,
} from '../probe/column-types.js';

/** A column of the data table, as the split needs it. */
export interface TargetColumn {
  name: string;
  type: string;
}

/** SQL over one raw text value (a `Nullable(String)` expression): the typed value, whether it fits, and why not. */
export interface CastExpressions {
  /** The value to store; only meaningful where `fits` is true. */
  value: string;
  /** True when the raw value is absent or parses as the column type. */
  fits: string;
  /** A sentence saying why the value does not fit. */
  problem: string;
}

/** What the store holds beyond its types: where it is less than the types themselves hold. */
export interface StoreLimits {
  /**
   * The last instant (UTC) the store reads and shows right, where that comes before the end of its
   * date and time types (18.16's date library ends with 2105); a later value does not fit.
   */
  lastInstant?: string;
}

/**
 * The engine-side cast of one column. Empty and `null` texts count as absent for non-text columns;
 * an absent value becomes NULL in a Nullable column and the type's default elsewhere.
 * Type names are written into view definitions, where the engine takes no parameters.
 */
export function castExpressions(column: TargetColumn, raw: string, limits: StoreLimits = {}): CastExpressions {
  const type = column.type;
  const base = baseType(type);
  const problem = `concat('value "', substring(ifNull(${raw}, ''), 1, 200), '" is not a valid ', ${quoteString(base)})`;
  if (isStringType(type)) {
    const value = isNullableType(type) ? raw : `ifNull(${raw}, '')`;
    // Text in another encoding is quarantined, not stored as bytes that no reader shows as written.
    const text = `ifNull(${raw}, '')`;
    return { value, fits: `isValidUTF8(${text})`, problem: `concat('value "', toValidUTF8(substring(${text}, 1, 200)), '" is not valid UTF-8 text')` };
  }
  const present = presentText(raw);
  if (isCompositeType(type)) {
    // Composite types cannot sit inside Nullable, so their texts are checked as JSON instead.
    const text = `assumeNotNull(${present})`;
    return {
      value: `JSONExtract(ifNull(${present}, ''), ${quoteString(type)})`,
      fits: `(${present} IS NULL OR (isValidJSON(${text})${arrayElementsFit(type, text, limits)}))`,
      problem,
    };
  }
  // true/false read as 1/0 in integer columns (booleans where the store has no Bool type).
  const numeric = /^U?Int\d+$/.test(base) ? `transform(lowerUTF8(${present}), ['true', 'false'], ['1', '0'], ${present})` : present;
  const names = enumNames(type);
  const parse = (text: string) =>
    isDateTimeType(type)
      ? // At least millisecond precision: whole-second parsing clamps to 1970–2106, hiding values out of range.
        `parseDateTime64BestEffortOrNull(${text}, ${Math.max(dateTimePrecision(type), 3)}, ${quoteString(dateTimeZone(type))})`
      : `accurateCastOrNull(${text}, ${quoteString(base)})`;
  if (names) {
    // accurateCastOrNull throws on an unknown element, which would fail the whole object.
    const parsed = `if(${present} IN (${names.map(quoteString).join(', ') || "''"}), ${present}, NULL)`;
    const value = isNullableType(type) ? `CAST(${parsed}, ${quoteString(type)})` : `CAST(ifNull(${parsed}, toString(defaultValueOfTypeName(${quoteString(base)}))), ${quoteString(type)})`;
    return { value, fits: `(${present} IS NULL OR ${parsed} IS NOT NULL)`, problem };
  }
  // Most values parse as they are written; only those that do not are trimmed, tested for null and
  // boolean spellings and parsed again, evaluated for those rows alone. A value that parses as written
  // parses to the same value trimmed (the parsers skip the spaces trimmed), and no null or boolean
  // spelling parses as a number or a time.
  const direct = parse(raw);
  const parsed = `if(${direct} IS NOT NULL, ${direct}, ${parse(numeric)})`;
  const fallback = `defaultValueOfTypeName(${quoteString(base)})`;
  const value = isNullableType(type) ? `CAST(${parsed}, ${quoteString(type)})` : `CAST(ifNull(${parsed}, ${fallback}), ${quoteString(type)})`;
  const last = isDateTimeType(type) ? limits.lastInstant : undefined;
  return {
    value,
    fits: `((${direct} IS NOT NULL${withinRange(type, direct, last)}) OR ${present} IS NULL OR (${parsed} IS NOT NULL${withinRange(type, parsed, last)}))`,
    // A value that fits its type but comes after the store's last instant says so.
    problem: last
      ? `if(ifNull(${parsed} IS NOT NULL${withinRange(type, parsed)} AND ${parsed} > toDateTime64(${quoteString(last)}, 3, 'UTC'), 0), concat('value "', substring(ifNull(${raw}, ''), 1, 200), '" is after ${last.slice(0, 10)}, the last day the store reads'), ${problem})`
      : problem,
  };
}

/** The raw text of a non-text column, trimmed; NULL when absent (no text, empty, or `null`). */
function presentText(raw: string): string {
  return `if(${raw} IS NULL OR lowerUTF8(trimBoth(${raw})) IN ('', 'null'), NULL, trimBoth(${raw}))`;
}

/**
 * SQL over one raw text value that fits its column (see `fits`): true when the value the split stores
 * is the text's own value, not a rounded or cut one. A float keeps the significant digits written
 * (`3.14159265358979323846` or `123456789012345678901` do not: Float64 holds 15 to 17), a Decimal
 * its scale, a date or time every fraction of a second written (`DateTime` holds whole seconds, `Date`
 * days). Integers, booleans, enums and composite values are exact when they fit.
 */
export function keepsExactly(column: TargetColumn, raw: string): string {
  const type = column.type;
  if (isStringType(type) || isCompositeType(type) || enumNames(type)) return '1';
  const present = presentText(raw);
  const { value } = castExpressions(column, raw);
  if (isDateTimeType(type)) {
    const zone = quoteString(dateTimeZone(type));
    return `(${present} IS NULL OR ifNull(parseDateTime64BestEffortOrNull(${present}, 9, ${zone}) = toDateTime64(${value}, 9, ${zone}), 0))`;
  }
  if (/^(Float\d+|BFloat16|Decimal)/.test(baseType(type))) {
    return `(${present} IS NULL OR ${significantDigits(present)} = ${significantDigits(`toString(${value})`)})`;
  }
  return '1';
}


/**
 * The digits of a number's text from its first to its last one that is not zero, without sign, point
 * or exponent: `-0.0012e5` → `12`. Two texts of which one was parsed from the other name the same
 * number exactly when these are equal (a parse lands on the nearest value, never a digit shift away).
 */
function significantDigits(text: string): string {
  return `trimBoth(replaceOne(extract(${text}, '^[+-]?([0-9]*[.]?[0-9]*)'), '.', ''), '0')`;
}

/**
 * The engine parses Decimals past their precision and clamps times: values outside the type (or after
 * the store's `lastInstant`) are checked here.
 */
function withinRange(type: string, parsed: string, lastInstant?: string): string {
  const digits = decimalIntegerDigits(type);
  if (digits !== undefined) return ` AND abs(${parsed}) < toDecimal256('1${'0'.repeat(Math.max(digits, 0))}', 0)`;
  const range = dateTimeRange(type);
  if (!range) return '';
  const max = lastInstant !== undefined && lastInstant < range.max ? lastInstant : range.max;
  return ` AND ${parsed} BETWEEN toDateTime64('${range.min}', 3, 'UTC') AND toDateTime64('${max}', 3, 'UTC')`;
}

/**
 * For an array of scalars: every element fits the element type by the same rules as a value of its
 * own (a JSON null is absent and takes the default). The engine's JSON reading would otherwise bend a
 * misfit element (`[1, "x"]` → `[1, 0]`, `[1.5]` → `[1]`) or drop the array (`[300]` into UInt8 → `[]`).
 * Nested composites keep the JSON check alone.
 */
function arrayElementsFit(type: string, text: string, limits: StoreLimits): string {
  const element = /^Array\((.*)\)$/s.exec(baseType(type))?.[1];
  if (element === undefined || isCompositeType(element)) return '';
  const elementText = "if(_bp_el = 'null', NULL, if(startsWith(_bp_el, '\"'), JSONExtractString(_bp_el), _bp_el))";
  const fits = castExpressions({ name: '', type: element }, `toNullable(${elementText})`, limits).fits;
  return fits === '1' ? '' : ` AND arrayAll(_bp_el -> ${fits}, JSONExtractArrayRaw(${text}))`;
}
