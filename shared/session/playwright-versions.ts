/**
 * Which Playwright client a `playwrightUrl` connection is, and whether a session can speak
 * to it. Playwright's client sends its version in the upgrade's `User-Agent`
 * (`Playwright/1.64.1 (x64; debian 12) node/22.23`); its protocol changes between minor
 * versions, so the server that answers must be of the same major.minor
 * (PLAYWRIGHT_SERVERS in the contracts). Pure: header in, verdict out.
 */
import { PLAYWRIGHT_SERVERS } from '../contracts.js';

export type PlaywrightMinor = keyof typeof PLAYWRIGHT_SERVERS;

/** The supported minors, oldest first: `1.63, 1.64, 1.65`. */
export const SUPPORTED_PLAYWRIGHT_MINORS = (Object.keys(PLAYWRIGHT_SERVERS) as PlaywrightMinor[]).sort(
  (a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]),
);

const isSupported = (minor: string): minor is PlaywrightMinor => Object.hasOwn(PLAYWRIGHT_SERVERS, minor);

export type PlaywrightClientCheck =
  | { ok: true; minor: PlaywrightMinor; version: string }
  /** `message`: what to tell the client (the versions, and what to use instead). */
  | { ok: false; version: string | undefined; message: string };

/** Playwright's own pattern for its client's User-Agent (remote/playwrightServer.ts). */
const CLIENT_USER_AGENT = /^Playwright\/(\d{1,4})\.(\d{1,4})\.(\d{1,6})(?:[-\s(]|$)/;

/** Whether the client behind `userAgent` is one a session speaks to, and which minor it is. */
export const checkPlaywrightClient = (userAgent: string | undefined): PlaywrightClientCheck => {
  const match = CLIENT_USER_AGENT.exec(userAgent ?? '');
  const supported = SUPPORTED_PLAYWRIGHT_MINORS.join(', ');
  const instead =
    "or connect any Playwright version to the session's cdpUrl with chromium.connectOverCDP(cdpUrl).";
  if (match === null) {
    return {
      ok: false,
      version: undefined,
      message:
        'playwrightUrl speaks Playwright\'s own protocol, to Playwright clients only: no "Playwright/<version>" ' +
        `User-Agent came with this request. Connect with playwright-core ${supported} (chromium.connect(playwrightUrl)), ${instead}`,
    };
  }
  const version = `${match[1]}.${match[2]}.${match[3]}`;
  const minor = `${match[1]}.${match[2]}`;
  if (isSupported(minor)) return { ok: true, minor, version };
  return {
    ok: false,
    version,
    message:
      `Playwright ${version} is not supported on playwrightUrl: its protocol must match the server's minor version, ` +
      `and sessions speak Playwright ${supported}. Use one of those with chromium.connect(playwrightUrl), ${instead}`,
  };
};
