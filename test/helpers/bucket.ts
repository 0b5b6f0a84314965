import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3_KEY, S3_SECRET } from './s3-server.js';

export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh bucket with a unique name. */
export async function createBucket(client: S3Client, prefix = 'bp'): Promise<string> {
  const bucket = `${prefix}-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/**
 * Puts objects one by one, a little over a second apart when `spaced` is set, so that their
 * LastModified (1-second resolution on s3rver) gives them a definite order.
 */
export async function putObjects(
  client: S3Client,
  bucket: string,
  objects: Record<string, string | Uint8Array>,
  options: { spaced?: boolean; contentEncoding?: string } = {},
): Promise<void> {
  let first = true;
  for (const [key, body] of Object.entries(objects)) {
    if (options.spaced && !first) await new Promise((r) => setTimeout(r, 1050));
    first = false;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentEncoding: options.contentEncoding }));
  }
}

/** The keys under a prefix (one page: tests keep well under a thousand). */
export async function keysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

/** An object's content as text. */
export async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}
