/**
 * Downloads a presigned artifact URL the platform itself made (a session screenshot's), at
 * most `maxBytes` of it, within 10 s: an answer that grows past the bound is cut off there.
 */
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

const DOWNLOAD_TIMEOUT_MS = 10_000;

export const downloadBounded = async (url: string, maxBytes: number): Promise<Uint8Array> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) }).catch(
    (error: unknown) => {
      throw new BrowserfleetError(
        ERROR_CODES.DEPENDENCY_UNAVAILABLE,
        `Artifact download failed: ${String(error)}`,
      );
    },
  );
  if (!response.ok || response.body === null) {
    throw new BrowserfleetError(
      ERROR_CODES.DEPENDENCY_UNAVAILABLE,
      `Artifact download answered ${response.status}.`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - size;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      size += Math.min(value.length, room);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks);
};
