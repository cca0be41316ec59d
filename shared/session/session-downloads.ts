/**
 * The `downloads` command: the files a session's pages downloaded, each stored once as an
 * artifact and answered as a presigned URL (the same way as a screenshot's bytes). Bounded
 * twice: the newest files only, and each at most the output cap; a bigger one is listed as
 * too large and never read, so no download can take the worker's memory with it.
 */
import { ARTIFACT_KEYS } from '../contracts.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import { ERROR_CODES, isBrowserfleetError } from '../errors.js';
import { OUTPUT_CAPS } from '../output-caps.js';
import type { DownloadedFile, SessionBrowser } from './ports.js';

/** Files listed per answer, the newest: what an agent just downloaded is what it asks for. */
export const MAX_LISTED_DOWNLOADS = 20;

export interface ListedDownload {
  name: string;
  size: number;
  contentType: string;
  /** Presigned, expiring; absent when the file is too large or could not be read. */
  url?: string;
  /** Past `OUTPUT_CAPS.sessionDownload`: listed, not stored. */
  tooLarge?: true;
  /** It was listed but could not be read (it went, or the disk failed): try again. */
  unavailable?: true;
}

export interface DownloadsAnswer {
  downloads: ListedDownload[];
  /** Older files not listed (past `MAX_LISTED_DOWNLOADS`). */
  omitted?: number;
}

/** Where each file already stored went: one per session, kept by its command runner. */
export type StoredDownloads = Map<string, string>;

export interface DownloadsContext {
  browser: SessionBrowser;
  sessionId: string;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  stored: StoredDownloads;
}

/**
 * Content types a browser shows without running anything; every other file is served as
 * bytes. The URL is on the artifact bucket's origin, so a downloaded page must not run
 * there as HTML or SVG.
 */
const INERT_TYPES: Record<string, string> = {
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  zip: 'application/zip',
  gz: 'application/gzip',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

/** The content type a file is stored and served with, by its extension. */
export const downloadContentType = (name: string): string =>
  INERT_TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';

/** A file is the same file while its name, size and time are: then it is stored once. */
const identity = (file: DownloadedFile) => `${file.name}\u0000${file.size}\u0000${file.modifiedAtMs}`;

/**
 * The file's bytes, or why it has none. One file that went (or grew past the cap since it
 * was listed) doesn't fail the list; anything else (a store that is down) does.
 */
const readOne = async (
  browser: SessionBrowser,
  file: DownloadedFile,
): Promise<Uint8Array | { tooLarge: true } | { unavailable: true }> => {
  try {
    return await browser.readDownload(file.name, OUTPUT_CAPS.sessionDownload);
  } catch (error) {
    if (!isBrowserfleetError(error)) throw error;
    return error.code === ERROR_CODES.RESULT_TOO_LARGE ? { tooLarge: true } : { unavailable: true };
  }
};

export const listDownloads = async (context: DownloadsContext): Promise<DownloadsAnswer> => {
  const files = await context.browser.downloads();
  const listed = files.slice(-MAX_LISTED_DOWNLOADS);
  const downloads: ListedDownload[] = [];
  // One at a time: at most one file's bytes are in memory.
  for (const file of listed) {
    const contentType = downloadContentType(file.name);
    const entry: ListedDownload = { name: file.name, size: file.size, contentType };
    if (file.size > OUTPUT_CAPS.sessionDownload) {
      downloads.push({ ...entry, tooLarge: true });
      continue;
    }
    let key = context.stored.get(identity(file));
    if (key === undefined) {
      const body = await readOne(context.browser, file);
      if (!(body instanceof Uint8Array)) {
        downloads.push({ ...entry, ...body });
        continue;
      }
      key = ARTIFACT_KEYS.sessionDownload.key(context.sessionId, context.stored.size + 1, file.name);
      await context.artifacts.put(key, body, contentType);
      context.stored.set(identity(file), key);
    }
    downloads.push({ ...entry, url: await context.artifacts.presignGet(key, context.artifactUrlTtlSeconds) });
  }
  const omitted = files.length - listed.length;
  return { downloads, ...(omitted > 0 ? { omitted } : {}) };
};
