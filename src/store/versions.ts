/**
 * Versions of the rows of the ledger, the ops log and the export ledger. A version is
 * `fence × VERSIONS_PER_FENCE + sequence`: the fence of the lease its writer held, then the writer's
 * own count. Fences only grow, so a row a later holder wrote always wins over one an earlier holder
 * wrote, whenever it arrives and whatever the clocks say.
 */
export const VERSIONS_PER_FENCE = 2 ** 22;

export function versionOf(fence: number, sequence: number): number {
  return fence * VERSIONS_PER_FENCE + sequence;
}

/** The fence a version was written under. */
export function fenceOfVersion(version: number): number {
  return Math.floor(version / VERSIONS_PER_FENCE);
}

/** What writes versioned rows: a lease's holder. */
export interface VersionSource {
  nextVersion(): number;
}
