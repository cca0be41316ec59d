/**
 * A live session's downloads dir, read for the `downloads` command: the files Chromium
 * finished writing there (it writes `<name>.crdownload` and renames it when done), and
 * one file's bytes, read no further than a cap so a file growing meanwhile can't take
 * more memory than the cap says.
 */
import { lstat, open, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { formatBytes } from '../../output-caps.js';
import type { DownloadedFile } from '../../session/ports.js';

const IN_PROGRESS = '.crdownload';

/** The finished regular files in `dir`, oldest first; none while it doesn't exist yet. */
export const listDownloadDir = async (dir: string): Promise<DownloadedFile[]> => {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files: DownloadedFile[] = [];
  for (const name of names) {
    if (name.endsWith(IN_PROGRESS)) continue;
    // lstat: a link (which Chromium never writes) is not followed out of the dir.
    const stats = await lstat(join(dir, name)).catch(() => undefined);
    if (stats?.isFile() !== true) continue;
    files.push({ name, size: stats.size, modifiedAtMs: stats.mtimeMs });
  }
  return files.sort((a, b) => a.modifiedAtMs - b.modifiedAtMs || (a.name < b.name ? -1 : 1));
};

const notThere = (name: string) =>
  new BrowserfleetError(ERROR_CODES.NOT_FOUND, `The download ${name} is not there (any more).`);

/** The bytes of the file `name` of `dir`: NOT_FOUND when it isn't a file there, RESULT_TOO_LARGE past `maxBytes`. */
export const readDownloadFile = async (dir: string, name: string, maxBytes: number): Promise<Uint8Array> => {
  if (basename(name) !== name || name === '.' || name === '..') throw notThere(name);
  const path = join(dir, name);
  const stats = await lstat(path).catch(() => undefined);
  if (stats?.isFile() !== true) throw notThere(name);
  const tooLarge = () =>
    new BrowserfleetError(
      ERROR_CODES.RESULT_TOO_LARGE,
      `The download ${name} is larger than ${formatBytes(maxBytes)}, the most a session stores.`,
    );
  if (stats.size > maxBytes) throw tooLarge();
  const file = await open(path, 'r').catch(() => undefined);
  if (file === undefined) throw notThere(name);
  try {
    // One byte past its size tells a file that grew since it was measured.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) throw tooLarge();
    // It grew since it was measured: not a finished file after all, so not stored as one.
    if (length > stats.size) throw notThere(name);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  } finally {
    await file.close();
  }
};
