import { runStatement } from '../../store/queries.js';
import { quoteIdentifier } from '../../store/sql.js';
import { quarantineTableSql, stagingTableSql } from '../../store/table-ddl.js';
import type { ImportContext } from '../import-context.js';
import type { TargetColumn } from './cast-expressions.js';
import { createSplitPipeline, dropSplitPipeline } from './split-views.js';

/** Builds the split for these columns unless it stands already. */
export type EnsureSplit = (columns: readonly TargetColumn[]) => Promise<void>;

/** The split of one run: built when a load first needs it, rebuilt for new columns, dropped at the end. */
export interface RunSplit {
  ensure: EnsureSplit;
  /** Drops what was built, if anything; never fails the run. */
  drop(): Promise<void>;
}

/** The split is built when a load first needs it (a Parquet run may need none), and again for new columns. */
export function runSplit(ctx: ImportContext): RunSplit {
  let builtFor: readonly TargetColumn[] | undefined;
  return {
    async ensure(columns) {
      if (builtFor === columns) return;
      await prepareSplit(ctx, columns);
      builtFor = columns;
    },
    async drop() {
      if (builtFor) await dropSplit(ctx).catch(() => undefined);
    },
  };
}

/**
 * The split of a run: in the store itself, or, with a server as the store, in the worker's engine
 * with staging tables shaped like the server's tables.
 */
async function prepareSplit(ctx: ImportContext, columns: readonly TargetColumn[]): Promise<void> {
  const name = ctx.datasource.name;
  const targets = ctx.target.split;
  if (ctx.target.kind === 'in-store') return createSplitPipeline(ctx.engine, name, columns, targets, ctx.testFault);
  await dropSplit(ctx);
  await runStatement(ctx.engine, stagingTableSql(targets.data, columns));
  await runStatement(ctx.engine, quarantineTableSql(name, columns, targets.quarantine));
  await createSplitPipeline(ctx.engine, name, columns, targets, ctx.testFault);
}

async function dropSplit(ctx: ImportContext): Promise<void> {
  await dropSplitPipeline(ctx.engine, ctx.datasource.name);
  if (ctx.target.kind === 'in-store') return;
  await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(ctx.target.split.data)}`);
  await runStatement(ctx.engine, `DROP TABLE IF EXISTS ${quoteIdentifier(ctx.target.split.quarantine)}`);
}
