import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { BucketAccess } from './s3-client.js';
import { explainS3Error } from './s3-errors.js';

/** One object as listed: enough to decide whether it is new and to order it. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** Without the surrounding quotes S3 puts on it. */
  etag: string;
  size: number;
  lastModified: Date;
}

/** Every object under `prefix`, page by page (`pageSize` keys a page; the store's default is 1000). */
export async function* listObjects(
  access: BucketAccess,
  bucket: string,
  prefix: string,
  pageSize?: number,
): AsyncGenerator<ObjectRef[]> {
  let continuationToken: string | undefined;
  do {
    let page;
    try {
      page = await access.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: continuationToken, MaxKeys: pageSize }),
      );
    } catch (error) {
      throw explainS3Error(error, { bucket, connection: access.connection.name });
    }
    const refs: ObjectRef[] = [];
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined || item.Key.endsWith('/')) continue;
      refs.push({
        bucket,
        key: item.Key,
        etag: (item.ETag ?? '').replace(/^"|"$/g, ''),
        size: item.Size ?? 0,
        lastModified: item.LastModified ?? new Date(0),
      });
    }
    yield refs;
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
}
