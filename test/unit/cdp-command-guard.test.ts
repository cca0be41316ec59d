import { describe, expect, it } from 'vitest';
import { CDP_REFUSED_CODE, checkCdpCommand } from '../../shared/egress/cdp-command-guard.js';

const command = (method: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 7, method, params, ...extra });

const reply = (text: string) => {
  const verdict = checkCdpCommand(text);
  if (verdict.forward) throw new Error(`forwarded: ${text}`);
  return JSON.parse(verdict.reply) as {
    id?: unknown;
    sessionId?: unknown;
    error: { code: number; message: string };
  };
};

describe('CDP command guard: what would leave the egress proxy is refused', () => {
  it.each([
    ['direct://', { proxyServer: 'direct://' }],
    ['another proxy', { proxyServer: 'http://10.0.0.5:3128' }],
    ["'' (no proxy, to Chromium)", { proxyServer: '' }],
    ['a bypass list', { proxyServer: 'http://127.0.0.1:1', proxyBypassList: '*' }],
    ['a bypass list alone', { proxyBypassList: '<-loopback>' }],
    ['a proxy of null', { proxyServer: null }],
  ])('refuses Target.createBrowserContext with %s', (_, params) => {
    const answer = reply(command('Target.createBrowserContext', params));
    expect(answer).toEqual({
      id: 7,
      error: { code: CDP_REFUSED_CODE, message: expect.stringMatching(/egress guard/) },
    });
  });

  it('refuses Target.exposeDevToolsProtocol (a page-side CDP channel the router never sees)', () => {
    const answer = reply(command('Target.exposeDevToolsProtocol', { targetId: 'T', bindingName: 'cdp' }));
    expect(answer.error).toMatchObject({
      code: CDP_REFUSED_CODE,
      message: expect.stringMatching(/egress guard/),
    });
  });

  it('refuses Target.setRemoteLocations (the browser would connect to them itself)', () => {
    const answer = reply(
      command('Target.setRemoteLocations', { locations: [{ host: '127.0.0.1', port: 9222 }] }),
    );
    expect(answer.error.code).toBe(CDP_REFUSED_CODE);
  });

  it('judges the command inside Target.sendMessageToTarget, at any depth', () => {
    const inner = command('Target.createBrowserContext', { proxyServer: 'direct://' });
    const once = command('Target.sendMessageToTarget', { sessionId: 'S', message: inner });
    const twice = command('Target.sendMessageToTarget', { sessionId: 'S', message: once });
    expect(reply(once).error.message).toMatch(/proxyServer/);
    expect(reply(twice).error.message).toMatch(/proxyServer/);
    const harmless = command('Runtime.evaluate', { expression: '1' });
    expect(
      checkCdpCommand(command('Target.sendMessageToTarget', { sessionId: 'S', message: harmless })),
    ).toEqual({
      forward: true,
    });
  });

  it('answers on the same flat session, so the client can match the answer', () => {
    const answer = reply(
      command('Target.createBrowserContext', { proxyServer: 'direct://' }, { sessionId: 'S1' }),
    );
    expect(answer).toMatchObject({ id: 7, sessionId: 'S1' });
  });

  it('reads a method name spelled with JSON escapes, as Chromium does', () => {
    const text =
      '{"id":3,"method":"Target.create\\u0042rowserContext","params":{"pr\\u006fxyServer":"direct://"}}';
    expect(reply(text)).toMatchObject({ id: 3, error: { code: CDP_REFUSED_CODE } });
  });

  it('does not forward what it cannot parse but names a watched method (Chromium accepts comments)', () => {
    const text = '{"id":4,"method":"Target.createBrowserContext" /* */,"params":{"proxyServer":"direct://"}}';
    expect(reply(text).error.code).toBe(-32700);
  });

  it('names the refused method, for the log', () => {
    const verdict = checkCdpCommand(command('Target.exposeDevToolsProtocol', { targetId: 'T' }));
    expect(verdict).toMatchObject({ forward: false, method: 'Target.exposeDevToolsProtocol' });
  });
});

describe('CDP command guard: everything else goes through', () => {
  it.each([
    ['a plain context', command('Target.createBrowserContext')],
    [
      'a plain context to dispose on detach',
      command('Target.createBrowserContext', { disposeOnDetach: true }),
    ],
    // Chromium matches keys exactly: this one is ignored, and the context keeps the proxy.
    [
      'a key that only looks like proxyServer',
      command('Target.createBrowserContext', { ProxyServer: 'direct://' }),
    ],
    ['a navigation', command('Page.navigate', { url: 'https://example.com/' }, { sessionId: 'S' })],
    [
      'a script that mentions a watched method',
      command('Runtime.evaluate', { expression: '"Target.createBrowserContext proxyServer direct://\\n"' }),
    ],
    ['a command with escapes', command('Runtime.evaluate', { expression: 'a\nb "quoted" \\ back' })],
    ['not JSON, naming nothing watched', '{"id":1,"method":"Browser.getVersion" /* */}'],
    ['a non-object', '["Target.createBrowserContext"]'],
  ])('forwards %s', (_, text) => {
    expect(checkCdpCommand(text)).toEqual({ forward: true });
  });
});

describe("CDP command guard: the worker's disk is not the client's", () => {
  it.each([
    ['Page.navigate', { url: 'file:///etc/passwd' }],
    ['Page.navigate', { url: '  FILE:///etc/passwd' }],
    ['Page.navigate', { url: 'fi\tle:///etc/passwd' }],
    ['Page.navigate', { url: 'chrome://version' }],
    ['Page.navigate', { url: 'view-source:file:///etc/passwd' }],
    ['Target.createTarget', { url: 'file:///tmp/' }],
    ['Network.loadNetworkResource', { url: 'file:///etc/passwd', frameId: 'F', options: {} }],
    ['DOM.setFileInputFiles', { files: ['/etc/passwd'], backendNodeId: 3 }],
    ['Input.dispatchDragEvent', { type: 'drop', x: 1, y: 1, data: { items: [], files: ['/etc/passwd'] } }],
  ])('refuses %s %j', (method, params) => {
    expect(reply(command(method, params)).error).toMatchObject({
      code: CDP_REFUSED_CODE,
      message: expect.stringMatching(/disk/),
    });
  });

  it.each([
    ['Page.navigate', { url: 'https://example.test/' }],
    ['Page.navigate', { url: 'http://127.0.0.1:8080/a' }],
    ['Page.navigate', { url: 'about:blank' }],
    ['Page.navigate', { url: 'data:text/html,<h1>hi</h1>' }],
    ['Target.createTarget', { url: 'about:blank', browserContextId: 'C' }],
    ['Target.createTarget', { url: '' }],
    ['Network.loadNetworkResource', { url: 'https://example.test/app.js.map', frameId: 'F', options: {} }],
    ['Input.dispatchDragEvent', { type: 'dragEnter', x: 1, y: 1, data: { items: [] } }],
    ['Page.navigateToHistoryEntry', { entryId: 3 }],
  ])('forwards %s %j', (method, params) => {
    expect(checkCdpCommand(command(method, params))).toEqual({ forward: true });
  });

  it('refuses a file: navigation sent inside Target.sendMessageToTarget', () => {
    const inner = command('Page.navigate', { url: 'file:///etc/passwd' });
    expect(
      reply(command('Target.sendMessageToTarget', { message: inner, targetId: 'T' })).error.message,
    ).toMatch(/disk/);
  });
});

describe("CDP command guard: downloads go to the session's own dir", () => {
  const downloadDir = '/tmp/bf-chrome-1-abc/Downloads';
  const forwarded = (text: string, options: { downloadDir?: string } = { downloadDir }) => {
    const verdict = checkCdpCommand(text, options);
    if (!verdict.forward) throw new Error(`refused: ${verdict.reply}`);
    return verdict.text === undefined ? undefined : JSON.parse(verdict.text);
  };

  it.each(['Browser.setDownloadBehavior', 'Page.setDownloadBehavior'])(
    'rewrites %s to the session dir, whatever path the client named',
    (method) => {
      expect(
        forwarded(
          command(method, { behavior: 'allow', downloadPath: '/tmp/bf-chrome-2-other' }, { sessionId: 'S' }),
        ),
      ).toEqual({ id: 7, method, sessionId: 'S', params: { behavior: 'allow', downloadPath: downloadDir } });
    },
  );

  it('adds the session dir where the client named none (Chromium would use the worker home)', () => {
    expect(
      forwarded(command('Browser.setDownloadBehavior', { behavior: 'allowAndName', eventsEnabled: true })),
    ).toMatchObject({ params: { behavior: 'allowAndName', eventsEnabled: true, downloadPath: downloadDir } });
  });

  it('forwards a deny as it is', () => {
    expect(forwarded(command('Browser.setDownloadBehavior', { behavior: 'deny' }))).toBeUndefined();
  });

  it('refuses download settings where it knows no session dir, and inside sendMessageToTarget', () => {
    expect(
      reply(command('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: '/x' })).error.message,
    ).toMatch(/disk/);
    const inner = command('Page.setDownloadBehavior', { behavior: 'allow', downloadPath: '/x' });
    const verdict = checkCdpCommand(
      command('Target.sendMessageToTarget', { message: inner, targetId: 'T' }),
      {
        downloadDir,
      },
    );
    expect(verdict.forward).toBe(false);
  });
});
