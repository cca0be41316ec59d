import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactReader, ArtifactStore } from '../core/artifact-store.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Pingable } from '../health/ports.js';

/** Artifacts in a private bucket, handed out as presigned GET URLs that expire. */
export class S3ArtifactStore implements ArtifactStore, ArtifactReader, Pingable {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }

  async read(
    key: string,
    maxBytes: number,
  ): Promise<{ body: Uint8Array; contentType: string; truncated: boolean }> {
    // One byte past the bound tells a longer object from one that fits exactly.
    const answer = await this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${maxBytes}` }))
      .catch((error: unknown) => {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'NotFound') {
          throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Artifact ${key} does not exist.`);
        }
        throw error;
      });
    const bytes = (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
    return {
      body: bytes.subarray(0, maxBytes),
      contentType: answer.ContentType ?? 'application/octet-stream',
      truncated: bytes.length > maxBytes,
    };
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}
