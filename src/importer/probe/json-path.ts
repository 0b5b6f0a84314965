/**
 * `$.a.b[0]` and `$['odd key'].c` to path segments: keys (strings) and 0-based indexes (numbers).
 * Returns undefined for a path it cannot read.
 */
export function parseJsonPath(path: string): Array<string | number> | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: Array<string | number> = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      if (j === i + 1) return undefined;
      segments.push(path.slice(i + 1, j));
      i = j;
    } else if (ch === '[') {
      const quote = path[i + 1];
      if (quote === "'" || quote === '"') {
        let j = i + 2;
        let key = '';
        while (j < path.length && path[j] !== quote) {
          if (path[j] === '\\' && j + 1 < path.length) j++;
          key += path[j];
          j++;
        }
        if (path[j + 1] !== ']') return undefined;
        segments.push(key);
        i = j + 2;
      } else {
        const close = path.indexOf(']', i);
        const digits = close === -1 ? '' : path.slice(i + 1, close);
        if (!/^\d+$/.test(digits)) return undefined;
        segments.push(Number(digits));
        i = close + 1;
      }
    } else {
      return undefined;
    }
  }
  return segments;
}

/** The default path of a column read from NDJSON: its name as a top-level key. */
export function defaultJsonPath(column: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? `$.${column}` : `$['${column.replace(/[\\'`]/g, (c) => '\\' + c)}']`;
}
