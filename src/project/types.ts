import type { ExportCompression, ExportFormat, ImportFormat } from '../formats.js';
import type { BucketUri, ExportDestination } from './bucket-uri.js';

export type { ExportFormat, ImportFormat };

/** Where a setting came from, so every message can point at `file:line`. */
export interface SourceLocation {
  /** Path relative to the project folder, e.g. `datasources/events.datasource`. */
  file: string;
  /** 1-based line number. */
  line: number;
}

/** A secret is read from the environment at run time, or (discouraged) written literally in the file. */
export type SecretRef =
  | {
      kind: 'env';
      variable: string;
      /** The default of `{{ tb_secret("X", "default") }}`, used when the variable is unset. */
      fallback?: string;
    }
  | { kind: 'literal'; value: string };

/** `connections/NAME.connection`: how to reach a bucket. */
export interface ConnectionSpec {
  name: string;
  location: SourceLocation;
  /** Only `s3` is supported. */
  type: 's3';
  /** `S3_REGION`; default `us-east-1`. */
  region: string;
  /** `S3_ACCESS_KEY`; absent = the AWS SDK default credential chain. */
  accessKey?: SecretRef;
  /** `S3_SECRET`; required when S3_ACCESS_KEY is set. */
  secret?: SecretRef;
  /** `S3_SESSION_TOKEN`; optional, for temporary credentials. */
  sessionToken?: SecretRef;
  /**
   * `S3_ENDPOINT`; any S3-compatible store (MinIO, R2, ...). Absent = AWS. May be a
   * `{{ env("X") }}` template, resolved when the connection is opened.
   */
  endpoint?: string;
  /** `S3_FORCE_PATH_STYLE`; default true when an endpoint is set, false otherwise. */
  forcePathStyle: boolean;
  /** `S3_ARN`: a role to assume with the base credentials. */
  roleArn?: string;
  /** `S3_EXTERNAL_ID`: the external id for the role, if the role requires one. */
  externalId?: string;
}

/** One column of a `SCHEMA >` block. */
export interface ColumnSpec {
  /** Exactly as written (backticks removed, escapes resolved); may contain any character. */
  name: string;
  /** ClickHouse type as written, e.g. `LowCardinality(String)`. */
  type: string;
  /** `json:$.a.b`: where the value is read from in NDJSON objects. Default `$.<name>`. */
  jsonPath?: string;
  /** `DEFAULT expr`, if given. */
  defaultExpression?: string;
  location: SourceLocation;
}

export type ImportSchedule = '@auto' | '@on-demand';

/** IMPORT_* settings. */
export interface ImportSpec {
  /** `IMPORT_SERVICE`; only `s3`. */
  service: 's3';
  /** `IMPORT_CONNECTION_NAME`: a connection of the project. */
  connectionName: string;
  /** `IMPORT_BUCKET_URI`: `s3://bucket/prefix/**\/*.csv`. */
  bucketUri: string;
  /**
   * `IMPORT_BUCKET_URI` parsed, once, when the project is loaded. Derived from `bucketUri`, so a
   * pushed revision leaves it out and restoring it parses it again.
   */
  uri: BucketUri;
  /** `IMPORT_SCHEDULE`; default `@auto`. */
  schedule: ImportSchedule;
  /** `IMPORT_STRATEGY`; only `APPEND`. */
  strategy: 'APPEND';
  /** `IMPORT_FORMAT`; absent = from each key's extension. */
  format?: ImportFormat;
  /**
   * `IMPORT_CSV_HEADER`: whether the first row of every CSV object is a header (true) or data (false).
   * Absent = decided on evidence: with a SCHEMA, a first row is a header when it names its columns;
   * without one, as the reference object shows, for every object of the datasource.
   */
  csvHeader?: boolean;
  /** `IMPORT_MAX_FILES_PER_RUN`; default 5 (`DEFAULT_MAX_FILES_PER_RUN`) for `@auto` runs. On-demand runs take all new objects. */
  maxFilesPerRun: number;
  location: SourceLocation;
}

/** ENGINE* settings. */
export interface EngineSpec {
  /** `ENGINE`; a MergeTree family engine, default `MergeTree`. */
  engine: string;
  /** Engine arguments for engines that take them, e.g. the version column of ReplacingMergeTree (`ENGINE_VER`). */
  engineArgs: string[];
  /** `ENGINE_PARTITION_KEY`. */
  partitionKey?: string;
  /** `ENGINE_SORTING_KEY`; default `tuple()`. */
  sortingKey?: string;
  /** `ENGINE_PRIMARY_KEY`. */
  primaryKey?: string;
  /** `ENGINE_TTL`. */
  ttl?: string;
  /** `ENGINE_SETTINGS`, e.g. `index_granularity=8192`. */
  settings?: string;
  /** `ENGINE_SHARDING_KEY`: how a cluster of several shards spreads the rows (default `rand()`). */
  shardingKey?: string;
  location: SourceLocation;
}

/** EXPORT_* settings: table data written back to a bucket. */
export interface ExportSpec {
  /** `EXPORT_CONNECTION_NAME`: a connection of the project. */
  connectionName: string;
  /** `EXPORT_BUCKET_URI`: `s3://bucket/prefix/` (no globs); keys are written under the prefix. */
  bucketUri: string;
  /** `EXPORT_BUCKET_URI` parsed when the project is loaded; derived, like `ImportSpec.uri`. */
  destination: ExportDestination;
  /**
   * `EXPORT_FILE_TEMPLATE`: the key under the prefix. Placeholders: {{TABLE}} {{TABLE_HYPHEN}}
   * {{SYNC_ID}} {{UUID}} {{PART}} {{FORMAT}} {{YEAR}} {{MONTH}} {{DAY}} {{HOUR}} {{MINUTE}} {jobId}
   * and strftime %Y %m %d %H %M %S %F %T. Default
   * `{{TABLE}}/{{YEAR}}-{{MONTH}}-{{DAY}}/{{SYNC_ID}}-part-{{PART}}.{{FORMAT}}`.
   */
  fileTemplate: string;
  /** `EXPORT_FORMAT`; default `csv`. */
  format: ExportFormat;
  /** `EXPORT_COMPRESSION` (csv, jsonl); default `none`. */
  compression: ExportCompression;
  /** `EXPORT_PARQUET_COMPRESSION`; default `zstd`. */
  parquetCompression: 'zstd' | 'snappy' | 'none';
  /** `EXPORT_PARQUET_ROW_GROUP_SIZE` (rows); default the engine's. */
  parquetRowGroupSize?: number;
  /** `EXPORT_CSV_DELIMITER`: one character; default `,`. */
  csvDelimiter: string;
  /** `EXPORT_CSV_HEADER`; default true. */
  csvHeader: boolean;
  /** `EXPORT_COLUMN_CASE`: rename output columns; default unchanged. */
  columnCase?: 'upper' | 'lower';
  /** `EXPORT_MAX_ROWS_PER_FILE`: split into parts of at most this many rows; default one file. */
  maxRowsPerFile?: number;
  /** `EXPORT_QUERY`: what to export; default every column of the table. */
  query?: string;
  /** `EXPORT_SCHEDULE`: a cron expression (5 or 6 fields) or `@on-demand` (default). */
  schedule: string;
  /** `EXPORT_STRATEGY`: `new` (rows imported since the last successful export, default) or `full`. */
  strategy: 'new' | 'full';
  /** `EXPORT_WRITE_EMPTY`: write a file when there is no row; default false. */
  writeEmpty: boolean;
  /** `EXPORT_SSE`: server-side encryption. */
  sse?: 'AES256' | 'aws:kms';
  /** `EXPORT_SSE_KMS_KEY_ID`, with `EXPORT_SSE aws:kms`. */
  sseKmsKeyId?: string;
  /** `EXPORT_ACL`: a canned ACL, e.g. `bucket-owner-full-control`. */
  acl?: string;
  /** `EXPORT_TEST_WRITE`: push writes and removes a test object; default true. */
  testWrite: boolean;
  location: SourceLocation;
}

/** `datasources/NAME.datasource`. */
export interface DatasourceSpec {
  /** The file's base name; also the table name. */
  name: string;
  location: SourceLocation;
  description?: string;
  /** Absent = infer from the reference object at push time. */
  schema?: ColumnSpec[];
  engine: EngineSpec;
  import?: ImportSpec;
  export?: ExportSpec;
}

export interface Project {
  /** Absolute path of the project folder. */
  dir: string;
  connections: Map<string, ConnectionSpec>;
  datasources: Map<string, DatasourceSpec>;
}

export interface ProjectProblem {
  location: SourceLocation;
  message: string;
}

export interface LoadedProject {
  project: Project;
  /** Every error of every file; the project is unusable while there is one. */
  errors: ProjectProblem[];
  /** e.g. a literal secret written in a connection file. */
  warnings: ProjectProblem[];
}
