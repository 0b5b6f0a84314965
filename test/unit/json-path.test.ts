import { describe, it, expect } from 'vitest';
import { defaultJsonPath, parseJsonPath } from '../../src/importer/probe/json-path.js';

describe('parseJsonPath', () => {
  it('reads $ as the root', () => {
    expect(parseJsonPath('$')).toEqual([]);
  });

  it('reads dotted keys', () => {
    expect(parseJsonPath('$.a')).toEqual(['a']);
    expect(parseJsonPath('$.a.b')).toEqual(['a', 'b']);
    expect(parseJsonPath('$.user_id.v2')).toEqual(['user_id', 'v2']);
  });

  it('reads indexes as numbers', () => {
    expect(parseJsonPath('$.a[0].b')).toEqual(['a', 0, 'b']);
    expect(parseJsonPath('$[3]')).toEqual([3]);
    expect(parseJsonPath('$.m[1][12]')).toEqual(['m', 1, 12]);
  });

  it('reads bracketed single-quoted keys', () => {
    expect(parseJsonPath("$['odd key'].c")).toEqual(['odd key', 'c']);
    expect(parseJsonPath("$['a.b']['c[0]']")).toEqual(['a.b', 'c[0]']);
    expect(parseJsonPath("$['']")).toEqual(['']);
  });

  it('reads bracketed double-quoted keys with escapes', () => {
    expect(parseJsonPath('$["x\\"y"]')).toEqual(['x"y']);
    expect(parseJsonPath('$["a b"].c[2]')).toEqual(['a b', 'c', 2]);
    expect(parseJsonPath("$['it\\'s']")).toEqual(["it's"]);
    expect(parseJsonPath("$['back\\\\slash']")).toEqual(['back\\slash']);
  });

  it('keeps the other quote character inside a quoted key', () => {
    expect(parseJsonPath(`$["it's"]`)).toEqual(["it's"]);
    expect(parseJsonPath(`$['say "hi"']`)).toEqual(['say "hi"']);
  });

  it('returns undefined for paths it cannot read', () => {
    const invalid = [
      '',
      'a.b',
      '.a',
      '$a',
      '$.',
      '$..a',
      '$.a.',
      '$[',
      '$[0',
      '$[-1]',
      '$[1.5]',
      '$[abc]',
      "$['a'",
      "$['a']x",
      "$['a'.b",
      '$["a]',
      '$ .a',
    ];
    for (const path of invalid) expect(parseJsonPath(path), path).toBeUndefined();
  });

  // Known bug (see report): an empty bracket reads as index 0 because Number('') === 0.
  it('rejects an empty bracket', () => {
    expect(parseJsonPath('$[]')).toBeUndefined();
  });
});

describe('defaultJsonPath', () => {
  it('uses dot notation for plain names', () => {
    expect(defaultJsonPath('id')).toBe('$.id');
    expect(defaultJsonPath('_private')).toBe('$._private');
    expect(defaultJsonPath('CamelCase9')).toBe('$.CamelCase9');
  });

  it('uses bracket notation for other names', () => {
    expect(defaultJsonPath('odd key')).toBe("$['odd key']");
    expect(defaultJsonPath('9lives')).toBe("$['9lives']");
    expect(defaultJsonPath('a.b')).toBe("$['a.b']");
    expect(defaultJsonPath('ü')).toBe("$['ü']");
  });

  it('escapes quotes and backslashes', () => {
    expect(defaultJsonPath("it's")).toBe("$['it\\'s']");
    expect(defaultJsonPath('a\\b')).toBe("$['a\\\\b']");
  });

  it('gives paths that parse back to the name as one key', () => {
    for (const name of ['id', 'odd key', "it's", 'a\\b', "\\'", 'a.b[0]', 'ü ö', '"quoted"', '$', 'a`b']) {
      expect(parseJsonPath(defaultJsonPath(name)), name).toEqual([name]);
    }
  });
});
