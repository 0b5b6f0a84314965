/** Small facts about ClickHouse type names, read from their text. */

/** `Nullable(X)` → X, `LowCardinality(X)` → X, recursively; anything else as is. */
export function baseType(type: string): string {
  const t = type.trim();
  const inner = /^(Nullable|LowCardinality)\((.*)\)$/s.exec(t);
  return inner ? baseType(inner[2]!) : t;
}

export function isNullableType(type: string): boolean {
  const t = type.trim();
  if (t.startsWith('Nullable(')) return true;
  const lc = /^LowCardinality\((.*)\)$/s.exec(t);
  return lc ? isNullableType(lc[1]!) : false;
}

/** Types whose values are text as read: no parsing can fail. */
export function isStringType(type: string): boolean {
  return baseType(type) === 'String';
}

/** Types that cannot be wrapped in Nullable, so a failed parse cannot be told by a NULL. */
export function isCompositeType(type: string): boolean {
  return /^(Array|Map|Tuple|Nested|JSON|Object|Variant|Dynamic)\b/.test(baseType(type));
}

export function isDateTimeType(type: string): boolean {
  return /^(Date|Date32|DateTime|DateTime64)\b/.test(baseType(type));
}

export function isNumericType(type: string): boolean {
  return /^(U?Int\d+|Float\d+|Decimal\d*|BFloat16)\b/.test(baseType(type));
}

/** `Nullable(X)` for a type that may be wrapped; composite types stay as they are. */
export function makeNullable(type: string): string {
  if (isNullableType(type) || isCompositeType(type)) return type;
  const lc = /^LowCardinality\((.*)\)$/s.exec(type.trim());
  if (lc) return `LowCardinality(Nullable(${lc[1]}))`;
  return `Nullable(${type.trim()})`;
}

/** The precision of DateTime64(p, ...) or 0 for other date types. */
export function dateTimePrecision(type: string): number {
  const m = /^DateTime64\(\s*(\d+)/.exec(baseType(type));
  return m ? Number(m[1]) : 0;
}

/**
 * The time zone written in a DateTime or DateTime64 type, else UTC: text without a zone is read as
 * UTC, the same on every machine whatever its local time zone.
 */
export function dateTimeZone(type: string): string {
  const m = /^DateTime(?:64\(\s*\d+\s*,|\()\s*'([^']+)'/.exec(baseType(type));
  return m ? m[1]! : 'UTC';
}

const INT_WIDTH = /^(U?)Int(8|16|32|64|128|256)$/;

/**
 * Whether every value of type `from` has exactly one value of type `to`: the same type up to
 * Nullable/LowCardinality, a wider integer, a wider float, or the same instant in another time zone.
 * Such columns are inserted without the split, since no value can fail to fit (NULL takes the default).
 */
export function convertsLosslessly(from: string, to: string): boolean {
  const f = baseType(from);
  const t = baseType(to);
  if (f === t) return true;
  const fi = INT_WIDTH.exec(f);
  const ti = INT_WIDTH.exec(t);
  if (fi && ti) {
    const [fromUnsigned, fromBits, toUnsigned, toBits] = [fi[1] === 'U', Number(fi[2]), ti[1] === 'U', Number(ti[2])];
    if (fromUnsigned === toUnsigned) return toBits >= fromBits;
    return fromUnsigned && !toUnsigned && toBits > fromBits;
  }
  if (fi && t === 'Float64') return Number(fi[2]) <= 32;
  if (f === 'Float32' && t === 'Float64') return true;
  if (/^DateTime64\(/.test(f) && /^DateTime64\(/.test(t)) return dateTimePrecision(f) === dateTimePrecision(t);
  if (/^DateTime(\(|$)/.test(f) && /^DateTime64\(/.test(t)) return true;
  return f === 'Date' && t === 'Date32';
}

/** The element names of `Enum8('a' = 1, …)` / `Enum16(…)`; undefined for other types. */
export function enumNames(type: string): string[] | undefined {
  const m = /^Enum(?:8|16)?\((.*)\)$/s.exec(baseType(type));
  if (!m) return undefined;
  return [...m[1]!.matchAll(/'((?:[^'\\]|\\.)*)'\s*=\s*-?\d+/g)].map((e) => e[1]!.replace(/\\(.)/g, '$1'));
}

/** Digits a Decimal may hold before its point (precision − scale); undefined for other types. */
export function decimalIntegerDigits(type: string): number | undefined {
  const base = baseType(type);
  const general = /^Decimal\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(base);
  if (general) return Number(general[1]) - Number(general[2] ?? 0);
  const sized = /^Decimal(32|64|128|256)\(\s*(\d+)\s*\)$/.exec(base);
  if (!sized) return undefined;
  const precision = { '32': 9, '64': 18, '128': 38, '256': 76 }[sized[1] as '32' | '64' | '128' | '256'];
  return precision - Number(sized[2]);
}

/**
 * The instants (UTC) a date or time type can hold; undefined for other types. Outside them the engine
 * would store a clamped or wrapped value.
 */
export function dateTimeRange(type: string): { min: string; max: string } | undefined {
  const base = baseType(type);
  if (/^Date$/.test(base)) return { min: '1970-01-01 00:00:00', max: '2149-06-06 23:59:59.999' };
  if (/^Date32$/.test(base)) return { min: '1900-01-01 00:00:00', max: '2299-12-31 23:59:59.999' };
  if (/^DateTime(\(|$)/.test(base)) return { min: '1970-01-01 00:00:00', max: '2106-02-07 06:28:15.999' };
  if (/^DateTime64\b/.test(base)) {
    return { min: '1900-01-01 00:00:00', max: dateTimePrecision(base) >= 9 ? '2262-04-11 23:47:16' : '2299-12-31 23:59:59.999' };
  }
  return undefined;
}
