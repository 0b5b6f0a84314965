import type { ObjectLayout } from '../probe/probe-object.js';
import type { TargetColumn } from './cast-expressions.js';

/**
 * What one load is asked to do, as every strategy takes it: objects of one layout, read by one
 * statement into these table columns, all under one import id.
 */
export interface LoadRequest {
  layouts: readonly ObjectLayout[];
  columns: readonly TargetColumn[];
  importId: string;
  /** Builds the split for `columns` unless it stands: only a load that goes through the split pays for it. */
  prepareSplit: () => Promise<void>;
}
