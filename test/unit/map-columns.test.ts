import { describe, it, expect } from 'vitest';
import { mapColumns, unmappedColumns } from '../../src/importer/probe/map-columns.js';

function entries(mapping: Map<string, string>): Array<[string, string]> {
  return [...mapping.entries()];
}

describe('mapColumns', () => {
  it('maps columns with the same name', () => {
    expect(entries(mapColumns(['id', 'name'], ['name', 'id', 'extra']))).toEqual([
      ['id', 'id'],
      ['name', 'name'],
    ]);
  });

  it('maps unique matches that differ only in case and surrounding spaces', () => {
    expect(entries(mapColumns(['user_id', 'Created At'], [' USER_ID ', 'created at']))).toEqual([
      ['user_id', ' USER_ID '],
      ['Created At', 'created at'],
    ]);
  });

  it('does not ignore inner spaces or other differences', () => {
    expect(mapColumns(['user id'], ['user  id']).size).toBe(0);
    expect(mapColumns(['user_id'], ['userid']).size).toBe(0);
    expect(mapColumns(['user_id'], ['user-id']).size).toBe(0);
  });

  it('leaves a table column unmapped when several object columns match loosely', () => {
    const mapping = mapColumns(['name', 'id'], ['Name', 'NAME', 'id']);
    expect(entries(mapping)).toEqual([['id', 'id']]);
  });

  it('leaves table columns unmapped when several of them match one object column loosely', () => {
    const mapping = mapColumns(['Name', 'NAME'], ['name']);
    expect(mapping.size).toBe(0);
  });

  it('prefers exact matches and loosely maps what remains', () => {
    // `id` takes `id` exactly; `ID` is then the only loose candidate left for `Id`.
    expect(entries(mapColumns(['id', 'Id'], ['ID', 'id']))).toEqual([
      ['id', 'id'],
      ['Id', 'ID'],
    ]);
  });

  it('does not loosely reuse an object column taken by an exact match', () => {
    expect(entries(mapColumns(['a', 'A'], ['a']))).toEqual([['a', 'a']]);
  });

  it('returns an empty map when nothing matches', () => {
    expect(mapColumns(['x'], ['y']).size).toBe(0);
    expect(mapColumns([], ['y']).size).toBe(0);
    expect(mapColumns(['x'], []).size).toBe(0);
  });
});

describe('unmappedColumns', () => {
  it('lists object columns no table column takes, in object order', () => {
    const objectColumns = ['z', 'ID', 'name', 'y'];
    const mapping = mapColumns(['id', 'name'], objectColumns);
    expect(unmappedColumns(mapping, objectColumns)).toEqual(['z', 'y']);
  });

  it('lists every column of an empty mapping', () => {
    expect(unmappedColumns(new Map(), ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('lists ambiguous object columns as unmapped', () => {
    const objectColumns = ['Name', 'NAME'];
    expect(unmappedColumns(mapColumns(['name'], objectColumns), objectColumns)).toEqual(['Name', 'NAME']);
  });

  it('lists nothing when every object column is taken', () => {
    const objectColumns = ['a', ' B '];
    expect(unmappedColumns(mapColumns(['a', 'b', 'c'], objectColumns), objectColumns)).toEqual([]);
  });
});

describe('mapObjectColumns', () => {
  const csv = (names: string[], hasHeader: boolean) => ({ format: 'csv', columns: names.map((name) => ({ name })), csv: { hasHeader } });

  it('matches by name when every column is found, or when shared names sit at other places', async () => {
    const { mapObjectColumns } = await import('../../src/importer/probe/map-columns.js');
    expect([...mapObjectColumns(['id', 'name'], csv(['name', 'id'], true), true).mapping]).toEqual([['id', 'id'], ['name', 'name']]);
    const moved = mapObjectColumns(['id', 'name'], csv(['name', 'other'], true), true);
    expect([...moved.mapping]).toEqual([['name', 'name']]);
    expect(moved.byPosition).toBe(false);
  });

  it('matches a renamed header by position when its shared names keep their places', async () => {
    const { mapObjectColumns } = await import('../../src/importer/probe/map-columns.js');
    const result = mapObjectColumns(['id', 'label', 'value'], csv(['ID', 'NAME_OF_THING', 'VALUE_X'], true), true);
    expect([...result.mapping]).toEqual([['id', 'ID'], ['label', 'NAME_OF_THING'], ['value', 'VALUE_X']]);
    expect(result.byPosition).toBe(true);
  });

  it('matches a headerless CSV by position against a declared SCHEMA', async () => {
    const { mapObjectColumns } = await import('../../src/importer/probe/map-columns.js');
    const result = mapObjectColumns(['id', 'name', 'score'], csv(['c1', 'c2'], false), true);
    expect([...result.mapping]).toEqual([['id', 'c1'], ['name', 'c2']]);
    expect(result.byPosition).toBe(true);
  });

  it('matches a header of other names by position only when the counts agree', async () => {
    const { mapObjectColumns } = await import('../../src/importer/probe/map-columns.js');
    expect(mapObjectColumns(['a', 'b'], csv(['X', 'Y'], true), true).byPosition).toBe(true);
    expect(mapObjectColumns(['a', 'b'], csv(['X', 'Y', 'Z'], true), true).mapping.size).toBe(0);
  });

  it('never guesses by position for inferred tables or other formats', async () => {
    const { mapObjectColumns } = await import('../../src/importer/probe/map-columns.js');
    expect(mapObjectColumns(['a'], csv(['X'], false), false).mapping.size).toBe(0);
    expect(mapObjectColumns(['a'], { format: 'parquet', columns: [{ name: 'X' }] }, true).mapping.size).toBe(0);
  });
});
