import type { ObjectRef } from '../../bucket/list-objects.js';

/**
 * The object a datasource without a SCHEMA takes its columns from: the oldest that matches its URI
 * (LastModified, then key). Push, preview and the first import pick it by this one rule, so that they
 * infer the same columns from the same object.
 */
export function referenceObject(candidates: Iterable<ObjectRef>): ObjectRef | undefined {
  let oldest: ObjectRef | undefined;
  for (const object of candidates) if (!oldest || oldestFirst(object, oldest) < 0) oldest = object;
  return oldest;
}

/** The order objects are imported in: oldest first (LastModified, then key). */
export function oldestFirst(a: ObjectRef, b: ObjectRef): number {
  const byTime = a.lastModified.getTime() - b.lastModified.getTime();
  if (byTime !== 0) return byTime;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
