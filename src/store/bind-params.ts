import { quoteString } from './sql.js';

/**
 * Puts bound values into the SQL text, for servers that take no query parameters (ClickHouse before
 * 19.x). This is the one place values become SQL text: every string goes through `quoteString`,
 * numbers must be finite, and a placeholder's declared type decides the literal's shape. Text inside
 * quotes and backticks is never touched.
 */
export function bindParams(sql: string, params: Record<string, unknown>): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '`' || ch === '"') {
      const end = closingQuote(sql, i);
      out += sql.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (ch === '{') {
      const match = /^\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/.exec(sql.slice(i));
      if (match) {
        const [whole, name, type] = match;
        if (!(name! in params)) throw new Error(`no value is bound for the query parameter ${name}`);
        out += literal(params[name!], type!.trim());
        i += whole.length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return out;
}

function closingQuote(sql: string, start: number): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\') i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i;
    }
  }
  return sql.length - 1;
}

/** The SQL literal of a value of a ClickHouse type. */
export function literal(value: unknown, type: string): string {
  const nullable = /^Nullable\((.*)\)$/s.exec(type);
  if (nullable) return value === null || value === undefined ? 'NULL' : literal(value, nullable[1]!.trim());
  const lowCardinality = /^LowCardinality\((.*)\)$/s.exec(type);
  if (lowCardinality) return literal(value, lowCardinality[1]!.trim());
  const array = /^Array\((.*)\)$/s.exec(type);
  if (array) {
    if (!Array.isArray(value)) throw new Error(`the value of an ${type} parameter must be an array`);
    return `[${value.map((v) => literal(v, array[1]!.trim())).join(', ')}]`;
  }
  if (/^(U?Int\d+|Float\d+|Decimal)/.test(type)) {
    const n = typeof value === 'bigint' ? value : Number(value);
    if (typeof n === 'number' && !Number.isFinite(n)) throw new Error(`the value of a ${type} parameter must be a finite number`);
    return String(n);
  }
  if (value instanceof Date) return quoteString(value.toISOString().replace('T', ' ').replace('Z', ''));
  return quoteString(String(value));
}

/**
 * The same client, adapted to a server older than query parameters: bound values are put into the
 * SQL text before it leaves, and inserted timestamps may carry milliseconds (the old parser wants
 * whole seconds unless asked for its best effort). Everything else passes through.
 */
export function forOldServer<C extends object>(client: C): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'insert') {
        return (params: { clickhouse_settings?: Record<string, unknown> }) =>
          value.call(target, { ...params, clickhouse_settings: { ...params.clickhouse_settings, date_time_input_format: 'best_effort' } });
      }
      if (property !== 'query' && property !== 'command' && property !== 'exec') return value.bind(target);
      return (params: { query: string; query_params?: Record<string, unknown> }) => {
        if (!params.query_params || Object.keys(params.query_params).length === 0) return value.call(target, params);
        const { query_params, ...rest } = params;
        return value.call(target, { ...rest, query: bindParams(params.query, query_params) });
      };
    },
  });
}
