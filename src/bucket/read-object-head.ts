import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { BucketAccess } from './s3-client.js';
import { explainS3Error } from './s3-errors.js';

export interface ObjectHead {
  /** The first bytes of the object (fewer if it is shorter). */
  bytes: Uint8Array;
  contentEncoding?: string;
}

/** Reads the first `length` bytes with a ranged GET, to sniff compression without downloading the object. */
export async function readObjectHead(access: BucketAccess, bucket: string, key: string, length = 16): Promise<ObjectHead> {
  try {
    const response = await access.client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${length - 1}` }),
    );
    const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    return { bytes: bytes.subarray(0, length), contentEncoding: response.ContentEncoding };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // An empty object cannot satisfy a range: it has no head at all.
    if (status === 416 || (error as { name?: string }).name === 'InvalidRange') return { bytes: new Uint8Array() };
    throw explainS3Error(error, { bucket, key, connection: access.connection.name });
  }
}
