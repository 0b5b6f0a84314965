import type { QuerySettings } from '../../store/queries.js';
import { ROW_INSERT_SETTINGS } from '../commit.js';

/**
 * Settings of every load. Rows per inserted block: the split holds each block as text and as typed
 * values at once; blocks smaller than the engine's default keep the peak memory of a load low
 * whatever the object's size.
 */
export const LOAD_SETTINGS: QuerySettings = {
  min_insert_block_size_rows: 131_072,
  min_insert_block_size_bytes: 32 * 1024 * 1024,
  // The Parquet reader prefetches row groups up to this much memory (the engine allows 4 GiB), so
  // a reader faster than the insert would hold most of a large file at once. At 16 MiB rather than
  // 64, a 3,000,000-row object peaks 5% lower, at the same speed.
  input_format_parquet_memory_high_watermark: 16 * 1024 * 1024,
  // The split's views (fit, reject, count) and the table's insert run side by side, not one after the
  // other in the inserting thread: a quarter off a large CSV load, a third off NDJSON.
  parallel_view_processing: 1,
  ...ROW_INSERT_SETTINGS,
};
