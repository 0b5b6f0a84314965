import { quoteString } from '../store/sql.js';
import {
  baseType,
  dateTimePrecision,
  dateTimeZone,
  isCompositeType,
  isDateTimeType,
  isNullableType,
  isStringType,
} from './column-types.js';

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
    return { value, fits: '1', problem };
  }
  const present = `if(${raw} IS NULL OR lowerUTF8(trimBoth(${raw})) IN ('', 'null'), NULL, trimBoth(${raw}))`;
  if (isCompositeType(type)) {
    // Composite types cannot sit inside Nullable, so their texts are checked as JSON instead.
    return {
      value: `JSONExtract(ifNull(${present}, ''), ${quoteString(type)})`,
      fits: `(${present} IS NULL OR isValidJSON(assumeNotNull(${present})))`,
      problem,
    };
  }
  // true/false read as 1/0 in integer columns (booleans where the store has no Bool type).
  const numeric = /^U?Int\d+$/.test(base) ? `transform(lowerUTF8(${present}), ['true', 'false'], ['1', '0'], ${present})` : present;
  const parsed = isDateTimeType(type)
    ? `parseDateTime64BestEffortOrNull(${present}, ${dateTimePrecision(type)}, ${quoteString(dateTimeZone(type))})`
    : `accurateCastOrNull(${numeric}, ${quoteString(base)})`;
  const value = isNullableType(type)
    ? `CAST(${parsed}, ${quoteString(type)})`
    : `CAST(ifNull(${parsed}, defaultValueOfTypeName(${quoteString(base)})), ${quoteString(type)})`;
  return { value, fits: `(${present} IS NULL OR ${parsed} IS NOT NULL)`, problem };
}
