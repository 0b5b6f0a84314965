import { objectUri } from '../../bucket/bucket-uri.js';
import type { ObjectFigures } from '../accounting.js';
import type { ObjectLayout } from '../probe/probe-object.js';

/** What a load did with one object: its records, and where each went (commit checks that they add up). */
export type LoadResult = ObjectFigures;

/** The header line a CSV object was decided to have, as a record read. */
export function headerLinesOf(layout: ObjectLayout): number {
  return layout.format === 'csv' && layout.csv?.hasHeader && !layout.empty ? 1 : 0;
}

/** The object's URI: what a load's results and the split's counts are keyed by. */
export function layoutUri(layout: ObjectLayout): string {
  return objectUri(layout.object.bucket, layout.object.key);
}
