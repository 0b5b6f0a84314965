/**
 * Parser limits of the embedded engine, raised for the statements bucketpipe writes itself: the
 * split of a wide table (1,000 columns) casts and checks every column in two materialized views,
 * which passes the engine's defaults (256 KiB of query text, 50,000 syntax tree nodes). Given as
 * client settings, which the embedded engine applies to its session with SET.
 */
export const ENGINE_QUERY_LIMITS = {
  max_query_size: 64 * 1024 * 1024,
  max_ast_elements: 10_000_000,
  max_expanded_ast_elements: 10_000_000,
} as const;
