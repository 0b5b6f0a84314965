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

/**
 * The engine-side cast of one column. Empty and `null` texts count as absent for non-text columns;
 * an absent value becomes NULL in a Nullable column and the type's default elsewhere.
 * Type names are written into view definitions, where the engine takes no parameters.
 */
export function castExpressions(column: TargetColumn, raw: string): CastExpressions {
  const type = column.type;
  const base = baseType(type);
  const problem = `concat('value "', substring(ifNull(${raw}, ''), 1, 200), '" is not a valid ', ${quoteString(base)})`;
  if (isStringType(type)) {
    const value = isNullableType(type) ? raw : `ifNull(${raw}, '')`;
    // Text in another encoding is quarantined, not stored as bytes that no reader shows as written.
    const text = `ifNull(${raw}, '')`;
    return { value, fits: `isValidUTF8(${text})`, problem: `concat('value "', toValidUTF8(substring(${text}, 1, 200)), '" is not valid UTF-8 text')` };
  }
  const present = `if(${raw} IS NULL OR lowerUTF8(trimBoth(${raw})) IN ('', 'null'), NULL, trimBoth(${raw}))`;
  if (isCompositeType(type)) {
    // Composite types cannot sit inside Nullable, so their texts are checked as JSON instead.
    const text = `assumeNotNull(${present})`;
    return {
      value: `JSONExtract(ifNull(${present}, ''), ${quoteString(type)})`,
      fits: `(${present} IS NULL OR (isValidJSON(${text})${arrayElementsFit(type, text)}))`,
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
  return {
    value,
    fits: `((${direct} IS NOT NULL${withinRange(type, direct)}) OR ${present} IS NULL OR (${parsed} IS NOT NULL${withinRange(type, parsed)}))`,
    problem,
  };
}

/** The engine parses Decimals past their precision and clamps times: values outside the type are checked here. */
function withinRange(type: string, parsed: string): string {
  const digits = decimalIntegerDigits(type);
  if (digits !== undefined) return ` AND abs(${parsed}) < toDecimal256('1${'0'.repeat(Math.max(digits, 0))}', 0)`;
  const range = dateTimeRange(type);
  if (!range) return '';
  return ` AND ${parsed} BETWEEN toDateTime64('${range.min}', 3, 'UTC') AND toDateTime64('${range.max}', 3, 'UTC')`;
}

/**
 * For an array of scalars: every element fits the element type by the same rules as a value of its
 * own (a JSON null is absent and takes the default). The engine's JSON reading would otherwise bend a
 * misfit element (`[1, "x"]` → `[1, 0]`, `[1.5]` → `[1]`) or drop the array (`[300]` into UInt8 → `[]`).
 * Nested composites keep the JSON check alone.
 */
function arrayElementsFit(type: string, text: string): string {
  const element = /^Array\((.*)\)$/s.exec(baseType(type))?.[1];
  if (element === undefined || isCompositeType(element)) return '';
  const elementText = "if(_bp_el = 'null', NULL, if(startsWith(_bp_el, '\"'), JSONExtractString(_bp_el), _bp_el))";
  const fits = castExpressions({ name: '', type: element }, `toNullable(${elementText})`).fits;
  return fits === '1' ? '' : ` AND arrayAll(_bp_el -> ${fits}, JSONExtractArrayRaw(${text}))`;
}
