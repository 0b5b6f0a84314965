import { describe, it, expect } from 'vitest';
import { explainS3Error } from '../../src/bucket/s3-errors.js';
import { BucketpipeError, toErrorReport } from '../../src/errors.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** An error shaped like the AWS SDK v3's service exceptions. */
function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`${name}: request signed with ${SECRET}`);
  error.name = name;
  return Object.assign(error, status === undefined ? {} : { $metadata: { httpStatusCode: status } }, extra);
}

const ctx = { bucket: 'my-bucket', key: 'events/a.csv', connection: 'my_s3' };

describe('explainS3Error', () => {
  it('maps NoSuchBucket to S3_BUCKET_NOT_FOUND, not retryable', () => {
    const error = explainS3Error(sdkError('NoSuchBucket', 404), ctx);
    expect(error).toBeInstanceOf(BucketpipeError);
    expect(error.code).toBe('S3_BUCKET_NOT_FOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "s3://my-bucket/events/a.csv (connection my_s3): the bucket does not exist. Check IMPORT_BUCKET_URI and the connection's region and endpoint.",
    );
  });

  it('maps NoSuchKey and a bare 404 to S3_ERROR about a missing object', () => {
    for (const error of [sdkError('NoSuchKey', 404), sdkError('NotFound', 404)]) {
      const explained = explainS3Error(error, ctx);
      expect(explained.code).toBe('S3_ERROR');
      expect(explained.retryable).toBe(false);
      expect(explained.message).toContain('s3://my-bucket/events/a.csv (connection my_s3): the object does not exist');
    }
  });

  it('maps refused credentials to S3_CREDENTIALS and names the SDK error', () => {
    for (const name of ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired']) {
      const error = explainS3Error(sdkError(name, 403), ctx);
      expect(error.code).toBe('S3_CREDENTIALS');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`the credentials were refused (${name})`);
    }
  });

  it('says where credentials can come from when none were found', () => {
    const error = explainS3Error(sdkError('CredentialsProviderError'), ctx);
    expect(error.code).toBe('S3_CREDENTIALS');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('no AWS credentials were found');
    expect(error.message).toContain('S3_ACCESS_KEY and S3_SECRET');
  });

  it('maps AccessDenied and any other 403 to S3_ACCESS_DENIED', () => {
    for (const error of [sdkError('AccessDenied', 403), sdkError('Forbidden', 403), sdkError('AccessDenied')]) {
      const explained = explainS3Error(error, ctx);
      expect(explained.code).toBe('S3_ACCESS_DENIED');
      expect(explained.retryable).toBe(false);
      expect(explained.message).toBe(
        's3://my-bucket/events/a.csv (connection my_s3): access denied. Check that the credentials may list and read this bucket.',
      );
    }
  });

  it('maps SlowDown, 5xx and service failures to retryable S3_TRANSIENT', () => {
    const cases: Array<[Error, string]> = [
      [sdkError('SlowDown', 503), 'SlowDown'],
      [sdkError('ServiceUnavailable', 503), 'ServiceUnavailable'],
      [sdkError('InternalError', 500), 'InternalError'],
      [sdkError('UnknownError', 502), 'UnknownError'],
      [sdkError('SlowDown'), 'SlowDown'],
      [sdkError('Throttled', 429, { $retryable: { throttling: true } }), 'Throttled'],
    ];
    for (const [error, name] of cases) {
      const explained = explainS3Error(error, ctx);
      expect(explained.code).toBe('S3_TRANSIENT');
      expect(explained.retryable).toBe(true);
      expect(explained.message).toBe(`s3://my-bucket/events/a.csv (connection my_s3): the S3 service failed for now (${name}); the import will be retried.`);
    }
  });

  it('maps network errors named by their code to retryable S3_TRANSIENT', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']) {
      const explained = explainS3Error({ code, message: `connect ${code} 10.0.0.1:443` }, ctx);
      expect(explained.code).toBe('S3_TRANSIENT');
      expect(explained.retryable).toBe(true);
      expect(explained.message).toContain(`(${code})`);
    }
    const timeout = new Error('timed out');
    timeout.name = 'TimeoutError';
    expect(explainS3Error(timeout, ctx).code).toBe('S3_TRANSIENT');
  });

  // Known bug (see report): a real Node network error has name 'Error' and code 'ECONNRESET';
  // explainS3Error reads `name` first, so it is classified as a permanent S3_ERROR.
  it('maps a Node system error with code ECONNRESET to S3_TRANSIENT', () => {
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
    expect(explainS3Error(error, ctx).code).toBe('S3_TRANSIENT');
  });

  it('includes the SDK message for unknown errors, not retryable', () => {
    const error = Object.assign(new Error('The XML you provided was not well-formed'), { name: 'MalformedXML', $metadata: { httpStatusCode: 400 } });
    const explained = explainS3Error(error, ctx);
    expect(explained.code).toBe('S3_ERROR');
    expect(explained.retryable).toBe(false);
    expect(explained.message).toBe('s3://my-bucket/events/a.csv (connection my_s3): MalformedXML: The XML you provided was not well-formed');
  });

  it('copes with non-error values', () => {
    const fromNull = explainS3Error(null, { bucket: 'b' });
    expect(fromNull.code).toBe('S3_ERROR');
    expect(fromNull.message).toBe('bucket b: Error');
    const fromString = explainS3Error('boom', { bucket: 'b' });
    expect(fromString.code).toBe('S3_ERROR');
    expect(fromString.message).toBe('bucket b: Error');
  });

  it('reads the Code property of older error shapes', () => {
    expect(explainS3Error({ Code: 'NoSuchBucket' }, { bucket: 'b' }).code).toBe('S3_BUCKET_NOT_FOUND');
  });

  it('names the bucket alone when there is no key, and omits a missing connection', () => {
    const explained = explainS3Error(sdkError('NoSuchBucket', 404), { bucket: 'my-bucket' });
    expect(explained.message.startsWith('bucket my-bucket: the bucket does not exist.')).toBe(true);
    expect(explained.message).not.toContain('(connection');
  });

  it('never echoes the SDK message (which may hold a secret) for known errors', () => {
    const known = [
      sdkError('NoSuchBucket', 404),
      sdkError('NoSuchKey', 404),
      sdkError('InvalidAccessKeyId', 403),
      sdkError('SignatureDoesNotMatch', 403),
      sdkError('AccessDenied', 403),
      sdkError('SlowDown', 503),
      sdkError('InternalError', 500),
      Object.assign(new Error(`socket hang up ${SECRET}`), { name: 'ECONNRESET' }),
    ];
    for (const error of known) {
      const explained = explainS3Error(error, ctx);
      expect(explained.message).not.toContain(SECRET);
      expect(explained.message).not.toContain(error.message);
      expect(JSON.stringify(toErrorReport(explained))).not.toContain(SECRET);
    }
  });

  it('keeps the original error as the cause and the context', () => {
    const original = sdkError('AccessDenied', 403);
    const explained = explainS3Error(original, ctx);
    expect(explained.cause).toBe(original);
    expect(explained.context).toEqual(ctx);
    expect(toErrorReport(explained)).toEqual({ code: 'S3_ACCESS_DENIED', message: explained.message, retryable: false, context: ctx });
  });

  it('prefers the more specific branch when name and status disagree', () => {
    // NoSuchBucket comes back with a 404: it must not be reported as a missing object.
    expect(explainS3Error(sdkError('NoSuchBucket', 404), ctx).code).toBe('S3_BUCKET_NOT_FOUND');
    // Credentials errors come back with a 403: they must not be reported as access denied.
    expect(explainS3Error(sdkError('InvalidAccessKeyId', 403), ctx).code).toBe('S3_CREDENTIALS');
    // A 404 beats a retryable flag.
    expect(explainS3Error(sdkError('NotFound', 404, { $retryable: {} }), ctx).code).toBe('S3_ERROR');
  });
});
