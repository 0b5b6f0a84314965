import { BucketpipeError, type ErrorContext } from '../errors.js';

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError']);

/**
 * Turns an S3 SDK failure into a sentence that says what to check. Credentials and signed URLs
 * never reach the message: only the bucket, the key and the connection name do.
 */
export function explainS3Error(error: unknown, context: ErrorContext & { bucket: string }): BucketpipeError {
  const e = (error ?? {}) as AwsLikeError;
  const name = e.name ?? e.Code ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const where = context.key ? `s3://${context.bucket}/${context.key}` : `bucket ${context.bucket}`;
  const via = context.connection ? ` (connection ${context.connection})` : '';
  if (name === 'NoSuchBucket') {
    return new BucketpipeError('S3_BUCKET_NOT_FOUND', `${where}${via}: the bucket does not exist. Check IMPORT_BUCKET_URI and the connection's region and endpoint.`, { context, cause: error });
  }
  if (name === 'NoSuchKey' || status === 404) {
    return new BucketpipeError('S3_ERROR', `${where}${via}: the object does not exist (it may have been deleted after it was listed).`, { context, cause: error });
  }
  if (name === 'CredentialsProviderError') {
    return new BucketpipeError('S3_CREDENTIALS', `${where}${via}: no AWS credentials were found. Set S3_ACCESS_KEY and S3_SECRET in the connection (from environment variables), or configure the AWS default chain (AWS_ACCESS_KEY_ID, a profile, SSO or an instance role).`, { context, cause: error });
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired'].includes(name)) {
    return new BucketpipeError('S3_CREDENTIALS', `${where}${via}: the credentials were refused (${name}). Check the access key and secret the connection reads.`, { context, cause: error });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new BucketpipeError('S3_ACCESS_DENIED', `${where}${via}: access denied. Check that the credentials may list and read this bucket.`, { context, cause: error });
  }
  if (NETWORK_CODES.has(name) || (e.code !== undefined && NETWORK_CODES.has(e.code)) || name === 'SlowDown' || name === 'ServiceUnavailable' || name === 'InternalError' || (status !== undefined && status >= 500) || e.$retryable) {
    return new BucketpipeError('S3_TRANSIENT', `${where}${via}: the S3 service failed for now (${name}); the import will be retried.`, { context, cause: error });
  }
  return new BucketpipeError('S3_ERROR', `${where}${via}: ${name}${e.message ? `: ${e.message}` : ''}`, { context, cause: error });
}
