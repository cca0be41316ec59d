/**
 * Where task artifacts and session screenshots are kept (S3 on AWS), under the key layouts
 * declared in the contracts (`ARTIFACT_KEYS`), from which the CDK derives the grants.
 */
export interface ArtifactStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** A URL that downloads the object without credentials until it expires. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
}

/** Reads a stored object back (the MCP tools inline small artifacts into their answers). */
export interface ArtifactReader {
  /**
   * The object's bytes, at most `maxBytes` of them (`truncated` when it is longer), and its
   * content type. A missing key is a NOT_FOUND of the family.
   */
  read(key: string, maxBytes: number): Promise<{ body: Uint8Array; contentType: string; truncated: boolean }>;
}
