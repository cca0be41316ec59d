import { describe, expect, it } from 'vitest';
import { PLAYWRIGHT_SERVERS } from '../../shared/contracts.js';
import {
  checkPlaywrightCommand,
  PlaywrightObjects,
  reasonToRefusePlaywright,
} from '../../shared/egress/playwright-command-guard.js';
import {
  checkPlaywrightClient,
  SUPPORTED_PLAYWRIGHT_MINORS,
} from '../../shared/session/playwright-versions.js';

/** The server's messages, as its DispatcherConnection writes them (guid, then method). */
const create = (parent: string, type: string, guid: string) =>
  JSON.stringify({ guid: parent, method: '__create__', params: { type, initializer: {}, guid } });
const dispose = (guid: string) => JSON.stringify({ guid, method: '__dispose__', params: {} });
const adopt = (parent: string, guid: string) =>
  JSON.stringify({ guid: parent, method: '__adopt__', params: { guid } });

/** Objects as a connected client sees them: a page in a context in a browser. */
const objects = () => {
  const o = new PlaywrightObjects();
  for (const m of [
    create('', 'Playwright', 'playwright'),
    create('playwright', 'BrowserType', 'browser-type@chromium'),
    create('browser-type@chromium', 'Browser', 'browser@1'),
    create('browser@1', 'BrowserContext', 'browser-context@1'),
    create('browser-context@1', 'APIRequestContext', 'request-context@1'),
    create('browser-context@1', 'Page', 'page@1'),
    create('page@1', 'Frame', 'frame@1'),
    create('browser-context@1', 'Artifact', 'artifact@1'),
    create('browser-context@1', 'Tracing', 'tracing@1'),
  ])
    o.observe(m);
  return o;
};

const call = (guid: string, method: string, params: Record<string, unknown> = {}, id = 7) =>
  JSON.stringify({ id, guid, method, params, metadata: {} });

const refusal = (text: string, o = objects()) => {
  const verdict = checkPlaywrightCommand(text, o);
  if (verdict.forward) throw new Error(`forwarded: ${text}`);
  return { call: verdict.call, reply: JSON.parse(verdict.reply) };
};

describe('the Playwright command guard', () => {
  it('lets the everyday calls through', () => {
    const o = objects();
    for (const text of [
      call('', 'initialize', { sdkLanguage: 'javascript' }),
      call('frame@1', 'goto', { url: 'https://example.com/', timeout: 0 }),
      call('page@1', 'screenshot', { timeout: 0 }),
      call('frame@1', 'evaluateExpression', { expression: '1', isFunction: false, arg: {} }),
      call('browser@1', 'newContext', { viewport: { width: 10, height: 10 } }),
      // Playwright's server ignores these paths itself (it is a server): allowed.
      call('browser@1', 'newContext', { recordVideo: { dir: '/tmp/x' } }),
      call('frame@1', 'setInputFiles', {
        selector: '#f',
        payloads: [{ name: 'a.txt', buffer: 'aGk=' }],
        timeout: 0,
      }),
      call('artifact@1', 'saveAsStream'),
      call('tracing@1', 'tracingStart', { name: 'checkout run 2', snapshotDom: true }),
      call('tracing@1', 'tracingStartChunk', {}),
      call('tracing@1', 'tracingStopChunk', { mode: 'archive' }),
      call('request-context@1', 'storageState'),
      JSON.stringify({ id: 8, guid: 'page@1', method: '__waitInfo__', params: {} }),
      'not json',
    ])
      expect(checkPlaywrightCommand(text, o), text).toEqual({ forward: true });
  });

  it.each([
    ['request-context@1', 'fetch', { url: 'http://169.254.169.254/' }, /APIRequestContext.*refused/],
    ['playwright', 'newRequest', {}, /APIRequestContext/],
    ['browser-type@chromium', 'launch', {}, /opens no other/],
    ['browser-type@chromium', 'launchPersistentContext', { userDataDir: '/' }, /opens no other/],
    ['browser-type@chromium', 'connectOverCDP', { endpointURL: 'ws://127.0.0.1:9222' }, /opens no other/],
    ['browser@1', 'startServer', { title: 'x' }, /listen on the worker/],
    ['artifact@1', 'saveAs', { path: '/etc/cron.d/x' }, /path on the worker/],
    ['artifact@1', 'pathAfterFinished', {}, /on the worker/],
    ['browser-context@1', 'createTempFiles', { items: [] }, /written to the worker/],
    ['browser-context@1', 'showRecorder', {}, /recorder/],
    ['frame@1', 'setInputFiles', { selector: '#f', localPaths: ['/etc/passwd'] }, /localPaths.*refused/],
    ['frame@1', 'setInputFiles', { selector: '#f', localDirectory: '/home' }, /localDirectory is refused/],
    ['frame@1', 'drop', { selector: '#f', localPaths: ['/etc/passwd'] }, /drop with localPaths/],
    ['browser@1', 'newContext', { clientCertificates: [{ origin: 'https://x' }] }, /clientCertificates/],
    // newContextForReuse doesn't clear server paths as newContext does: refused here.
    ['browser@1', 'newContextForReuse', { recordVideo: { dir: '/etc/cron.d' } }, /recordVideo or recordHar/],
    ['browser@1', 'newContextForReuse', { recordHar: { path: '/tmp/x.har' } }, /recordVideo or recordHar/],
    [
      'browser@1',
      'newContextForReuse',
      { clientCertificates: [{ origin: 'https://x' }] },
      /clientCertificates/,
    ],
    ['tracing@1', 'tracingStart', { name: '../../home/node/.bashrc' }, /trace name/],
    ['tracing@1', 'tracingStartChunk', { name: 'a\\b' }, /trace name/],
    ['tracing@1', 'tracingStart', { name: '..' }, /trace name/],
    ['tracing@1', 'tracingStopChunk', { mode: 'entries' }, /paths on the worker/],
  ] as const)('refuses %s %s', (guid, method, params, message) => {
    const { call: name, reply } = refusal(call(guid, method, params, 42));
    expect(name).toBe(`${objects().typeOf(guid)}.${method}`);
    // The shape Playwright's client parses into an Error (serializeError).
    expect(reply).toMatchObject({
      id: 42,
      error: { error: { name: 'Error', message: expect.stringMatching(message) } },
    });
    expect(reply.error.error.message.startsWith(`${name}: `)).toBe(true);
  });

  it('refuses a call it cannot judge: no string guid or method', () => {
    for (const text of [
      JSON.stringify({ id: 3, guid: 'request-context@1', method: ['fetch'], params: {} }),
      JSON.stringify({ id: 3, guid: ['request-context@1'], method: 'fetch', params: {} }),
      JSON.stringify({ id: 3, method: 'fetch' }),
    ]) {
      const { reply } = refusal(text);
      expect(reply, text).toMatchObject({
        id: 3,
        error: { error: { message: expect.stringContaining('string guid') } },
      });
    }
  });

  it('refuses whole interfaces that act from the worker', () => {
    for (const type of [
      'LocalUtils',
      'Android',
      'AndroidDevice',
      'Electron',
      'JsonPipe',
      'DebugController',
    ]) {
      expect(reasonToRefusePlaywright(type, 'anything', {}), type).toMatch(/not served here/);
    }
    expect(reasonToRefusePlaywright('Page', 'goto', {})).toBeUndefined();
  });

  it('refuses a call to an object it was never told of, or one disposed (with its children)', () => {
    const o = objects();
    expect(
      refusal(call('local-utils@9', 'connect', { wsEndpoint: 'ws://10.0.0.1' }), o).reply.error.error.name,
    ).toBe('TargetClosedError');
    o.observe(dispose('browser-context@1'));
    for (const guid of ['browser-context@1', 'page@1', 'frame@1', 'request-context@1']) {
      expect(o.typeOf(guid), guid).toBeUndefined();
      expect(refusal(call(guid, 'goto', { url: 'https://example.com/' }), o).reply.error.error.name).toBe(
        'TargetClosedError',
      );
    }
    expect(o.typeOf('browser@1')).toBe('Browser');
    // The root is never disposed.
    o.observe(dispose(''));
    expect(o.typeOf('')).toBe('Root');
  });

  it('follows an adopted object to its new parent', () => {
    const o = objects();
    o.observe(create('browser@1', 'BrowserContext', 'browser-context@2'));
    o.observe(adopt('browser-context@2', 'page@1'));
    o.observe(dispose('browser-context@1'));
    expect(o.typeOf('page@1')).toBe('Page');
    o.observe(dispose('browser-context@2'));
    expect(o.typeOf('page@1')).toBeUndefined();
  });

  it('reads only lifecycle messages, from bytes as from text; a value that looks like one is not', () => {
    const o = new PlaywrightObjects();
    o.observe(Buffer.from(create('', 'Playwright', 'playwright')));
    expect(o.typeOf('playwright')).toBe('Playwright');
    // An event whose payload spells a create: escaped inside a string, so not read as one.
    o.observe(
      JSON.stringify({
        guid: 'playwright',
        method: 'console',
        params: { text: create('', 'LocalUtils', 'evil') },
      }),
    );
    // An answer (screenshots are megabytes) is not parsed at all.
    o.observe(JSON.stringify({ id: 1, result: { binary: 'x'.repeat(1_000) } }));
    expect(o.typeOf('evil')).toBeUndefined();
    expect(o.size).toBe(2);
  });
});

describe('the Playwright version window', () => {
  it('is the packages the worker carries, oldest first', () => {
    expect(SUPPORTED_PLAYWRIGHT_MINORS).toEqual(['1.63', '1.64', '1.65']);
    expect(Object.keys(PLAYWRIGHT_SERVERS).sort()).toEqual([...SUPPORTED_PLAYWRIGHT_MINORS].sort());
  });

  it('takes a client of a supported minor, whatever its patch', () => {
    expect(checkPlaywrightClient('Playwright/1.64.1 (x64; debian 12) node/22.23')).toEqual({
      ok: true,
      minor: '1.64',
      version: '1.64.1',
    });
    expect(checkPlaywrightClient('Playwright/1.65.0')).toMatchObject({ ok: true, minor: '1.65' });
    expect(checkPlaywrightClient('Playwright/1.63.7-beta-123 python/3.12')).toMatchObject({
      ok: true,
      minor: '1.63',
    });
  });

  it('refuses any other, naming the versions and cdpUrl with connectOverCDP', () => {
    for (const ua of [
      'Playwright/1.50.0 (x64)',
      'Playwright/1.66.0',
      'Playwright/2.63.0',
      'Playwright/1.6.3',
    ]) {
      const check = checkPlaywrightClient(ua);
      expect(check.ok, ua).toBe(false);
      if (check.ok) continue;
      expect(check.message).toContain(`Playwright ${check.version} is not supported`);
      expect(check.message).toContain('1.63, 1.64, 1.65');
      expect(check.message).toContain('connectOverCDP(cdpUrl)');
    }
    for (const ua of [
      undefined,
      '',
      'curl/8.5',
      'Mozilla/5.0 Playwright/1.64.1',
      'Playwright/1.64',
      'Playwright/1.64.1x',
    ]) {
      const check = checkPlaywrightClient(ua);
      expect(check, String(ua)).toMatchObject({ ok: false, version: undefined });
      if (!check.ok) expect(check.message).toContain('1.63, 1.64, 1.65');
    }
  });
});
