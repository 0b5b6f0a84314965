import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type ObjectCannedACL, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BucketAccess } from './s3-client.js';
import { explainS3Error } from './s3-errors.js';

export interface WriteOptions {
  contentType: string;
  sse?: ServerSideEncryption;
  sseKmsKeyId?: string;
  acl?: ObjectCannedACL;
}

/**
 * Streams a local file to a key with multipart uploads (8 MiB parts, 4 at a time): memory stays
 * bounded whatever the file's size. A failed upload is aborted, so the key is complete or absent.
 */
export async function uploadFile(access: BucketAccess, bucket: string, key: string, path: string, options: WriteOptions): Promise<void> {
  const upload = new Upload({
    client: access.client,
    params: {
      Bucket: bucket,
      Key: key,
      Body: createReadStream(path),
      ContentType: options.contentType,
      ServerSideEncryption: options.sse,
      SSEKMSKeyId: options.sseKmsKeyId,
      ACL: options.acl,
    },
    partSize: 8 * 1024 * 1024,
    queueSize: 4,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
  } catch (error) {
    throw explainS3Error(error, { bucket, key, connection: access.connection.name });
  }
}

export async function deleteObject(access: BucketAccess, bucket: string, key: string): Promise<void> {
  try {
    await access.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    throw explainS3Error(error, { bucket, key, connection: access.connection.name });
  }
}

/** Whether a key holds an object now. */
export async function objectExists(access: BucketAccess, bucket: string, key: string): Promise<boolean> {
  try {
    await access.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as { name?: string }).name === 'NotFound') return false;
    throw explainS3Error(error, { bucket, key, connection: access.connection.name });
  }
}

/** Writes and removes a small object: proves the credentials may write under the prefix. */
export async function checkWritable(access: BucketAccess, bucket: string, prefix: string, options: WriteOptions): Promise<void> {
  const key = `${prefix}.bucketpipe-write-test-${Date.now().toString(36)}`;
  try {
    await access.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'bucketpipe write test\n', ContentType: 'text/plain', ServerSideEncryption: options.sse, SSEKMSKeyId: options.sseKmsKeyId, ACL: options.acl }));
  } catch (error) {
    throw explainS3Error(error, { bucket, key, connection: access.connection.name });
  }
  await deleteObject(access, bucket, key);
}
