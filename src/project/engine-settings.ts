import { z } from 'zod';
import { ENGINE_ARG_DIRECTIVES, ENGINE_KEY_DIRECTIVES, firstLineOf, type EngineArgDirective } from './datasource-directives.js';
import { q } from './directive-values.js';
import type { Directive } from './lexer.js';
import type { ColumnSpec, EngineSpec, ProjectProblem } from './types.js';

/** The ENGINE* settings: which engines exist, which arguments each takes, and the checks between them. */

const BASE_ENGINES = [
  'MergeTree',
  'ReplacingMergeTree',
  'SummingMergeTree',
  'AggregatingMergeTree',
  'CollapsingMergeTree',
  'VersionedCollapsingMergeTree',
];
const ENGINES = new Map(
  [...BASE_ENGINES, ...BASE_ENGINES.map((e) => `Replicated${e}`)].map((e) => [e.toLowerCase(), e] as const),
);

/** Which engine families take each ENGINE_* argument. */
const ARG_USERS: Record<EngineArgDirective, string[]> = {
  ENGINE_VER: ['ReplacingMergeTree', 'VersionedCollapsingMergeTree'],
  ENGINE_SIGN: ['CollapsingMergeTree', 'VersionedCollapsingMergeTree'],
  ENGINE_IS_DELETED: ['ReplacingMergeTree'],
};

/** The single-line ENGINE directive the zod validation reads; the others are checked by `buildEngine`. */
export const ENGINE_VALUES = {
  ENGINE: z
    .string()
    .transform((v, ctx) => {
      const engine = ENGINES.get(v.trim().toLowerCase());
      if (engine !== undefined) return engine;
      const hint = v.includes('(')
        ? 'write the engine name alone; its arguments go in ENGINE_VER, ENGINE_SIGN and ENGINE_IS_DELETED'
        : `use one of ${BASE_ENGINES.join(', ')}, or their Replicated variants`;
      ctx.addIssue({ code: 'custom', message: `ENGINE ${q(v)} is not supported: ${hint}` });
      return z.NEVER;
    })
    .optional(),
};

/** Builds the engine settings; reports missing or misplaced ENGINE_VER / ENGINE_SIGN / ENGINE_IS_DELETED. */
export function buildEngine(
  engine: string | undefined,
  byName: Map<string, Directive>,
  values: Record<string, string>,
  schema: ColumnSpec[] | undefined,
  file: string,
  problems: ProjectProblem[],
): EngineSpec {
  const location = { file, line: byName.get('ENGINE')?.line ?? firstLineOf(byName, ['ENGINE', ...ENGINE_KEY_DIRECTIVES, ...ENGINE_ARG_DIRECTIVES]) ?? 1 };

  const name = engine ?? 'MergeTree';
  const family = name.replace(/^Replicated/, '');
  const problem = (line: number, message: string): void => {
    problems.push({ location: { file, line }, message });
  };
  // An empty value means "not set", as Tinybird writes `ENGINE_PARTITION_KEY ""`.
  const valueOf = (directive: string): string | undefined => {
    const value = values[directive]?.trim();
    return value === '' ? undefined : value;
  };

  for (const directive of ENGINE_ARG_DIRECTIVES) {
    const line = byName.get(directive)?.line;
    const users = ARG_USERS[directive];
    if (line !== undefined && valueOf(directive) !== undefined && !users.includes(family)) {
      problem(line, `${directive} is only used by ${users.join(' and ')}, not by ${name}: remove it or change ENGINE`);
    }
  }
  const required = (directive: string): string | undefined => {
    const value = valueOf(directive);
    if (value === undefined) problem(location.line, `${name} needs ${directive}: set it to the name of a column`);
    return value;
  };
  const args: (string | undefined)[] = [];
  if (family === 'ReplacingMergeTree') {
    const ver = valueOf('ENGINE_VER');
    const isDeleted = valueOf('ENGINE_IS_DELETED');
    if (isDeleted !== undefined && ver === undefined) {
      problem(byName.get('ENGINE_IS_DELETED')?.line ?? location.line, 'ENGINE_IS_DELETED needs ENGINE_VER: set the version column too');
    }
    args.push(ver, isDeleted);
  } else if (family === 'CollapsingMergeTree') {
    args.push(required('ENGINE_SIGN'));
  } else if (family === 'VersionedCollapsingMergeTree') {
    args.push(required('ENGINE_SIGN'), required('ENGINE_VER'));
  }
  const engineArgs = args.filter((a): a is string => a !== undefined);

  if (schema !== undefined && schema.length > 0) {
    const columns = new Set(schema.map((c) => c.name));
    for (const directive of ENGINE_ARG_DIRECTIVES) {
      const value = valueOf(directive);
      const bare = value?.replace(/^`(.*)`$/, '$1');
      if (bare !== undefined && ARG_USERS[directive].includes(family) && !columns.has(bare)) {
        problem(byName.get(directive)?.line ?? location.line, `${directive} ${q(value)} is not a column of SCHEMA: name one of its columns`);
      }
    }
  }

  const spec: EngineSpec = { engine: name, engineArgs, location };
  const partitionKey = valueOf('ENGINE_PARTITION_KEY');
  const sortingKey = valueOf('ENGINE_SORTING_KEY');
  const primaryKey = valueOf('ENGINE_PRIMARY_KEY');
  const ttl = valueOf('ENGINE_TTL');
  const settings = valueOf('ENGINE_SETTINGS');
  const shardingKey = valueOf('ENGINE_SHARDING_KEY');
  if (partitionKey !== undefined) spec.partitionKey = partitionKey;
  if (sortingKey !== undefined) spec.sortingKey = sortingKey;
  if (primaryKey !== undefined) spec.primaryKey = primaryKey;
  if (ttl !== undefined) spec.ttl = ttl;
  if (settings !== undefined) spec.settings = settings;
  if (shardingKey !== undefined) spec.shardingKey = shardingKey;
  return spec;
}
