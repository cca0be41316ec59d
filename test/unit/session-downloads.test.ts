/**
 * The `downloads` command stores each finished file once, under the session's own key
 * layout, answers presigned URLs, lists a file past the cap without reading it, and bounds
 * the list to the newest files.
 */
import { describe, expect, it } from 'vitest';
import { ARTIFACT_KEYS } from '../../shared/contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { OUTPUT_CAPS } from '../../shared/output-caps.js';
import type { DownloadedFile, SessionBrowser } from '../../shared/session/ports.js';
import {
  downloadContentType,
  listDownloads,
  MAX_LISTED_DOWNLOADS,
  type StoredDownloads,
} from '../../shared/session/session-downloads.js';
import { FakeArtifacts } from '../support/fakes.js';

/** A downloads dir in memory: names to bytes (or to a size only, for files never read). */
const browserWith = (files: (DownloadedFile & { body?: Uint8Array })[]) => {
  const reads: string[] = [];
  const browser = {
    downloads: async () => files.map(({ name, size, modifiedAtMs }) => ({ name, size, modifiedAtMs })),
    readDownload: async (name: string, maxBytes: number) => {
      reads.push(name);
      const file = files.find((f) => f.name === name);
      if (file?.body === undefined) throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `${name} went`);
      if (file.body.length > maxBytes) throw new BrowserfleetError(ERROR_CODES.RESULT_TOO_LARGE, 'big');
      return file.body;
    },
  } as Partial<SessionBrowser> as SessionBrowser;
  return { browser, reads };
};
const bytes = (text: string) => new TextEncoder().encode(text);
const file = (name: string, text: string, modifiedAtMs = 1) => ({
  name,
  size: text.length,
  modifiedAtMs,
  body: bytes(text),
});

describe('the downloads command', () => {
  it('stores each file once under the session prefix and answers a URL to its bytes', async () => {
    const { browser, reads } = browserWith([
      file('report.csv', 'a,b\n1,2\n'),
      file('page.html', '<b>x</b>', 2),
    ]);
    const artifacts = new FakeArtifacts();
    const stored: StoredDownloads = new Map();
    const context = { browser, sessionId: 'sess-1', artifacts, artifactUrlTtlSeconds: 60, stored };
    const first = await listDownloads(context);
    expect(first.downloads.map(({ url, ...rest }) => rest)).toEqual([
      { name: 'report.csv', size: 8, contentType: 'text/csv' },
      // A page is served as bytes: it must not run on the artifact bucket's origin.
      { name: 'page.html', size: 8, contentType: 'application/octet-stream' },
    ]);
    const url = first.downloads[0]?.url ?? '';
    expect(Buffer.from(url.split(',')[1] ?? '', 'base64').toString()).toBe('a,b\n1,2\n');
    expect([...artifacts.objects.keys()]).toEqual([
      ARTIFACT_KEYS.sessionDownload.key('sess-1', 1, 'report.csv'),
      ARTIFACT_KEYS.sessionDownload.key('sess-1', 2, 'page.html'),
    ]);
    for (const key of artifacts.objects.keys()) {
      expect(key.startsWith(`${ARTIFACT_KEYS.sessionDownload.prefix}sess-1/`)).toBe(true);
    }
    // Asked again: the same URLs, nothing read or stored twice.
    const again = await listDownloads(context);
    expect(again.downloads.map((d) => d.url)).toEqual(first.downloads.map((d) => d.url));
    expect(reads).toEqual(['report.csv', 'page.html']);
    expect(artifacts.objects.size).toBe(2);
  });

  it('lists a file past the cap as too large, without reading it', async () => {
    const { browser, reads } = browserWith([
      { name: 'huge.bin', size: OUTPUT_CAPS.sessionDownload + 1, modifiedAtMs: 1 },
      file('ok.txt', 'fine', 2),
    ]);
    const answer = await listDownloads({
      browser,
      sessionId: 's',
      artifacts: new FakeArtifacts(),
      artifactUrlTtlSeconds: 60,
      stored: new Map(),
    });
    expect(answer.downloads[0]).toEqual({
      name: 'huge.bin',
      size: OUTPUT_CAPS.sessionDownload + 1,
      contentType: 'application/octet-stream',
      tooLarge: true,
    });
    expect(answer.downloads[1]?.url).toMatch(/^data:text\/plain;base64,/);
    expect(reads).toEqual(['ok.txt']);
  });

  it('lists a file that went between listing and reading as unavailable; the others still come', async () => {
    const { browser } = browserWith([
      { name: 'gone.txt', size: 3, modifiedAtMs: 1 },
      file('here.txt', 'yes', 2),
    ]);
    const answer = await listDownloads({
      browser,
      sessionId: 's',
      artifacts: new FakeArtifacts(),
      artifactUrlTtlSeconds: 60,
      stored: new Map(),
    });
    expect(answer.downloads.map((d) => [d.name, d.unavailable ?? false, d.url !== undefined])).toEqual([
      ['gone.txt', true, false],
      ['here.txt', false, true],
    ]);
  });

  it('answers the newest files only, saying how many older ones it left out', async () => {
    const files = Array.from({ length: MAX_LISTED_DOWNLOADS + 3 }, (_, i) => file(`f${i}.txt`, 'x', i));
    const { browser } = browserWith(files);
    const answer = await listDownloads({
      browser,
      sessionId: 's',
      artifacts: new FakeArtifacts(),
      artifactUrlTtlSeconds: 60,
      stored: new Map(),
    });
    expect(answer.downloads).toHaveLength(MAX_LISTED_DOWNLOADS);
    expect(answer.downloads[0]?.name).toBe('f3.txt');
    expect(answer.omitted).toBe(3);
  });

  it('serves only inert types by their own type', () => {
    expect(downloadContentType('a.PDF')).toBe('application/pdf');
    expect(downloadContentType('a.svg')).toBe('application/octet-stream');
    expect(downloadContentType('noextension')).toBe('application/octet-stream');
  });
});
