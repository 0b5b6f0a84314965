import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { bindParams } from './bind-params.js';
import { ENGINE_QUERY_LIMITS } from './engine-limits.js';
import { settingsClause, type QuerySettings } from './queries.js';
import type { RowFormat } from './server-capabilities.js';
import { identifierList, quoteIdentifier } from './sql.js';

/**
 * The worker's own engine when the store is a ClickHouse server: it reads the objects, decodes, casts
 * and splits them into local staging tables, and streams the typed rows out. The server never sees
 * S3 or its credentials. It keeps its tables in a temporary folder for the life of the process.
 */
export interface LocalEngine {
  client: ClickHouseClient;
  /**
   * The result of a query as a byte stream in `format`, chunk by chunk (memory stays bounded). Native
   * is written as every server version reads it (`NATIVE_FOR_EVERY_SERVER`). `params` fill the
   * query's `{name:Type}` placeholders, `settings` apply to it. Destroying the stream cancels the
   * query; it has ended once the stream emits `close`.
   */
  stream(query: string, format: string, options?: StreamOptions): Readable;
  /**
   * Inserts a byte stream in `format` into the `columns` of a local table (the stream's columns, in
   * its order), chunk by chunk, with backpressure. Fails when the engine or the stream fails. The
   * stream must not come from this engine, whose statements run one at a time.
   */
  insertStream(table: string, columns: readonly StreamColumn[], values: Readable, format: RowFormat, signal?: AbortSignal): Promise<void>;
  /**
   * Runs a statement that reads a byte stream in `format` as a file: `{bp_rows:String}`,
   * `{bp_rows_format:String}` and `{bp_rows_structure:String}` in its text name the stream, its format
   * and its columns, as `file()` takes them. The stream is written while the statement runs, with
   * backpressure; both must succeed. Returns the rows the statement read. Binary formats only.
   */
  runOverStream(statement: StreamedStatement, values: Readable, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

/** What a streamed query binds and sets, besides its text. */
export interface StreamOptions {
  params?: Record<string, string>;
  settings?: QuerySettings;
}

/** A statement of the engine over a stream of rows (see `LocalEngine.runOverStream`). */
export interface StreamedStatement {
  sql: string;
  params?: Record<string, unknown>;
  settings?: QuerySettings;
  /** The stream's columns, in its order, and its format. */
  columns: readonly StreamColumn[];
  format: RowFormat;
}

/** A column of a row stream: its name and type. */
export interface StreamColumn {
  name: string;
  type: string;
}

/**
 * The engine writes Native as the oldest servers read it (ClickHouse 18.16 measured): type names as
 * text, JSON as text, and LowCardinality columns as plain ones, which every server converts into its
 * LowCardinality column on insert. Without a client protocol version (the engine is no client of the
 * server) the engine already writes no block info and no sparse columns.
 */
export const NATIVE_FOR_EVERY_SERVER: QuerySettings = {
  output_format_native_encode_types_in_binary_format: 0,
  output_format_native_write_json_as_string: 1,
  output_format_native_use_flattened_dynamic_and_json_serialization: 0,
  low_cardinality_allow_in_native_format: 0,
};

export function openLocalEngine(): LocalEngine {
  const connection: ChdbConnection = createChdbConnection({ path: ':memory:' });
  const client = createClient({ connection, log: { level: ClickHouseLogLevel.OFF }, clickhouse_settings: ENGINE_QUERY_LIMITS } as unknown as Parameters<typeof createClient>[0]);
  let pipes: string | undefined;
  const runOverStream: LocalEngine['runOverStream'] = async (statement, values, signal) => {
    pipes ??= mkdtempSync(join(tmpdir(), 'bucketpipe-pipes-'));
    const pipe = join(pipes, `${randomUUID()}.pipe`);
    const params = { ...statement.params, bp_rows: pipe, bp_rows_format: statement.format, bp_rows_structure: statement.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ') };
    return throughPipe(pipe, values, signal, async () => {
      const result = await client.command({ query: statement.sql + settingsClause(statement.settings ?? {}), query_params: params });
      return Number(result.summary?.read_rows ?? 0);
    });
  };
  return {
    client,
    stream(query, format, options = {}) {
      // The engine's streamed reads bind no parameters: bindParams is the one place values become SQL text.
      const text = (options.params ? bindParams(query, options.params) : query) + settingsClause({ ...options.settings, ...(format === 'Native' ? NATIVE_FOR_EVERY_SERVER : {}) });
      const chunks = connection.chdb.queryStream(text, { format });
      const readable = Readable.from(
        (async function* () {
          // Each chunk's bytes are a Buffer of their own already: passed on without a copy (a copy
          // took about 0.3 s of the main thread for a 1,000,000-row object, measured).
          for await (const chunk of chunks) yield asBuffer(chunk.raw());
        })(),
        { objectMode: false },
      );
      // A stream given up (its consumer failed) cancels the engine's query at once: the session runs
      // one stream at a time, and the next statement would otherwise find this one still active.
      const destroy = readable._destroy.bind(readable);
      readable._destroy = (error, callback) => {
        if (!chunks.closed) chunks.cancel();
        destroy(error, callback);
      };
      return readable;
    },
    async insertStream(table, columns, values, format, signal) {
      if (format === 'TabSeparated') {
        // The table's own columns, in order: the stream's (named columns would have to pass chDB's stricter identifier check).
        await connection.chdb.streamInsert({ table, values, format, signal });
        return;
      }
      // The engine's own inserts of a stream are cut at line ends: binary rows reach it through a
      // named pipe, which it reads as a file while the stream is written into it.
      await runOverStream({ sql: `INSERT INTO ${quoteIdentifier(table)} (${identifierList(columns.map((c) => c.name))}) SELECT * FROM ${PIPE_READ}`, columns, format }, values, signal);
    },
    runOverStream,
    close: async () => {
      if (pipes) rmSync(pipes, { recursive: true, force: true });
      await client.close();
    },
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** How a statement of `runOverStream` reads its stream: as a file, by the parameters it binds. */
export const PIPE_READ = 'file({bp_rows:String}, {bp_rows_format:String}, {bp_rows_structure:String})';

/**
 * The engine reads the pipe as a file (`read`, a statement) while the stream is written into it;
 * whichever side fails first ends the other (a closed pipe fails the writer, a writer's end the
 * reader's read). Both must succeed: a stream that broke off at the end of a block would read as a
 * short but whole file. `signal` stops the writer; the engine's read then ends with the pipe.
 */
async function throughPipe<T>(pipe: string, values: Readable, signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T> {
  // Node has no mkfifo; the pipe is the user's alone, in a folder that is too.
  execFileSync('mkfifo', ['-m', '600', pipe]);
  try {
    let readerDone = false;
    const reading = read().finally(() => (readerDone = true));
    // Awaited below, once the writer is done; a failure meanwhile is not an unhandled one.
    reading.catch(() => undefined);
    const writing = (async () => {
      const fd = await openForWriting(pipe, () => readerDone, signal);
      if (fd === undefined) {
        // The engine's read ended first: its error, or, had it none, this one.
        await reading;
        throw new Error('the engine ended its read of the rows before it opened them');
      }
      await pipeline(values, new Socket({ fd, readable: false, writable: true }), { signal });
    })();
    const [written] = await Promise.allSettled([writing]);
    if (written.status === 'fulfilled') return await reading;
    values.destroy();
    // A reader still waiting to open the pipe would wait for ever: it is given a writer that ends at once.
    await releaseReader(pipe, () => readerDone);
    const readError: unknown = await reading.then(() => undefined, (error: unknown) => error);
    // A writer cut off by the engine (its end of the pipe closed) says less than the engine's own error.
    throw readError && (written.reason as NodeJS.ErrnoException).code === 'EPIPE' ? readError : written.reason;
  } finally {
    rmSync(pipe, { force: true });
  }
}

/**
 * Opens the pipe for writing once the engine has opened it for reading (before that, a non-blocking
 * open fails with ENXIO); undefined when the engine's read ended first. Non-blocking, so that Node
 * writes it through its event loop and never holds a thread of the pool the engine's queries run on.
 */
async function openForWriting(pipe: string, readerDone: () => boolean, signal?: AbortSignal): Promise<number | undefined> {
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    signal?.throwIfAborted();
    try {
      return openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    if (readerDone()) return undefined;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Opens and closes the pipe as a writer until the engine's read has ended (it reads an end of file). */
async function releaseReader(pipe: string, readerDone: () => boolean): Promise<void> {
  while (!readerDone()) {
    try {
      closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
