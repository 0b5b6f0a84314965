import type { ErrorReport } from '../errors.js';
import type { Lease } from '../lease.js';
import type { JobStatus } from '../ops/ops-log.js';

/** How a run is asked to go. */
export interface SyncOptions {
  trigger: 'auto' | 'on-demand';
  /** At most this many objects; default IMPORT_MAX_FILES_PER_RUN for `auto`, all for `on-demand`. */
  limit?: number;
  /** Import objects that failed before with the same ETag. */
  retryFailed?: boolean;
  jobId?: string;
  onProgress?: (progress: SyncProgress) => void;
  /** Stops the run between two objects (the object being loaded is finished first). */
  signal?: AbortSignal;
  /** The datasource's lease, held for the whole run; every ledger write is versioned and checked by it. */
  lease: Lease;
}

/** Where a run stands, for whoever shows its progress. */
export interface SyncProgress {
  done: number;
  total: number;
  rows: number;
  quarantined: number;
  current?: string;
}

/** What happened to one object in a run. */
export interface ObjectReport {
  uri: string;
  etag: string;
  status: 'imported' | 'failed';
  rows: number;
  quarantined: number;
  /** Records read (a CSV header line included); every one is a row, a quarantined row or the header. */
  records: number;
  /** Of the records, the CSV header line (0 or 1). */
  headerLines: number;
  bytes: number;
  addedColumns: string[];
  error?: ErrorReport;
}

/** The outcome of one import run. */
export interface ImportReport {
  jobId: string;
  datasource: string;
  trigger: 'auto' | 'on-demand';
  status: JobStatus;
  objects: ObjectReport[];
  rows: number;
  quarantined: number;
  bytes: number;
  /** Objects under the URI that match its pattern, imported or not (0: the URI matches nothing, yet). */
  matched: number;
  /** New objects left for later runs by the per-run limit. */
  deferred: number;
  /** Imported keys that came back with another ETag (reported, not imported). */
  changed: string[];
  /** Objects that failed in an earlier run and were not tried again. */
  skippedFailed: number;
  /** Interrupted imports undone before this run. */
  recovered: number;
  /** The run was asked to stop before it took every object (the rest is left for the next run). */
  stopped: boolean;
  startedAt: string;
  finishedAt: string;
  error?: ErrorReport;
}
