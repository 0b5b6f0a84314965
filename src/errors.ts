/**
 * Stable codes for every failure the product reports. A code never changes meaning, so scripts
 * can match on it in `--json` output and in the ops log.
 */
export type ErrorCode =
  | 'PROJECT_INVALID'
  | 'DATASOURCE_NOT_FOUND'
  | 'CONNECTION_NOT_FOUND'
  | 'NO_IMPORT'
  | 'NO_EXPORT'
  | 'SCHEMA_INCOMPATIBLE'
  | 'SCHEMA_INFERENCE_FAILED'
  | 'S3_ACCESS_DENIED'
  | 'S3_BUCKET_NOT_FOUND'
  | 'S3_CREDENTIALS'
  | 'S3_TRANSIENT'
  | 'S3_ERROR'
  | 'OBJECT_UNREADABLE'
  | 'STORE_UNAVAILABLE'
  | 'QUEUE_UNAVAILABLE'
  | 'JOB_FAILED'
  | 'STORE_ERROR'
  | 'BUSY'
  | 'LEASE_LOST'
  | 'OBJECT_CHANGED'
  | 'NOT_PUSHED'
  | 'KEY_EXISTS'
  /** The records an import read and the rows it stored do not add up; the import was undone. */
  | 'ROWS_UNACCOUNTED'
  | 'INTERNAL';

/** Context that names the subject of an error. Never holds secrets or bound values. */
export interface ErrorContext {
  file?: string;
  line?: number;
  datasource?: string;
  bucket?: string;
  key?: string;
  connection?: string;
}

/** Codes of failures that may succeed when tried again later; everything else is deterministic. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['S3_TRANSIENT', 'STORE_UNAVAILABLE', 'QUEUE_UNAVAILABLE', 'BUSY', 'LEASE_LOST', 'OBJECT_CHANGED']);

/** The one error type the product throws on purpose. Its message is a sentence for a user. */
export class BucketpipeError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { context?: ErrorContext; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BucketpipeError';
    this.code = code;
    this.context = options.context ?? {};
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** A plain-data view of any error, safe to print, log or store. */
export interface ErrorReport {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  context: ErrorContext;
}

export function toErrorReport(error: unknown): ErrorReport {
  if (error instanceof BucketpipeError) {
    return { code: error.code, message: error.message, retryable: error.retryable, context: error.context };
  }
  const message = error instanceof Error ? error.message : String(error);
  // S3 failures arrive explained; a bare broken connection is the store's (a server restarting, a
  // network blip), and a later try may well succeed.
  if (CONNECTION_FAILURES.has((error as { code?: unknown } | null)?.code as string)) {
    return { code: 'STORE_UNAVAILABLE', message: `the connection to the store failed (${message}); it will be retried.`, retryable: true, context: {} };
  }
  return { code: 'INTERNAL', message, retryable: false, context: {} };
}

/** Node's codes for a connection that could not be made or broke off. */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
